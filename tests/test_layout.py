"""The home page and the command line's argument checks must not wait for TensorFlow."""
import subprocess
import sys

from conftest import ROOT

LIGHT = ["core", "core.spec", "core.cli", "core.summary", "core.training", "core.datasets",
         "core.charts", "core.experiments.why", "core.experiments.initialization",
         "core.experiments.through_time", "core.experiments.problem",
         "core.experiments.remedies", "core.experiments.activations",
         "core.experiments.phase", "core.experiments.residual_scaling", "core.jacobian",
         "core.phase_pass", "core.born_dead", "core.finite_width",
         "core.zoo", "core.challenges", "core.challenge_bank", "core.slides", "core.slots",
         "pages.warmup"]


def test_light_modules_do_not_import_tensorflow_or_streamlit():
    code = ("import sys\n" + "".join(f"import {name}\n" for name in LIGHT) +
            "print('tensorflow' in sys.modules, 'keras' in sys.modules, "
            "'streamlit' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.stdout.split() == ["False", "False", "False"], done.stderr


def test_experiments_and_summary_do_not_load_altair():
    """Sentences format numbers with core.summary, not through the charts package."""
    code = ("import sys\n" + "".join(f"import {name}\n" for name in LIGHT) +
            "print('altair' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.stdout.split() == ["False"], done.stderr


def test_core_never_imports_streamlit():
    for path in (ROOT / "core").rglob("*.py"):
        assert "import streamlit" not in path.read_text(), path


def test_only_the_charts_package_imports_altair():
    """The engine computes tables; core/charts/ draws them."""
    engine = [path for path in (ROOT / "core").rglob("*.py") if "charts" not in path.parts]
    assert engine
    for path in engine:
        text = path.read_text()
        assert "import altair" not in text and "vl_convert" not in text, path


def test_warm_up_runs_once_and_fills_the_cache(monkeypatch):
    import core.per_layer
    from pages import warmup
    from core.experiments.problem import identity_spec
    warmup.start_in_background()  # may already have run (the home page's AppTest)
    assert warmup.start_in_background() is False  # once per process
    from core.experiments import initialization
    core.per_layer._profile.forget(identity_spec(50, 1.5))
    initialization.sweep.forget(depth=30, width=128)
    monkeypatch.setattr(warmup, "QUIET_SECONDS", 0.0)  # no visitor to wait for here
    warmup._warm()
    assert core.per_layer._profile.contains(identity_spec(50, 1.5))
    assert initialization.sweep.contains(depth=30, width=128)  # as pages/initialization.py asks
    from core import finite_width
    from pages import initialization_seeds  # its defaults, as the section builds them
    assert finite_width.is_cached(finite_width.FiniteWidthSpec(
        seeds=initialization_seeds.SEEDS, depth=finite_width.PAGE_DEPTH,
        width=finite_width.PAGE_WIDTH, init="he_normal"))


def _lines(path) -> int:
    return len(path.read_text().splitlines())


def test_pages_are_short_scripts_and_core_files_stay_small():
    """Every topic page <= 150 lines (title, intro, controls, one call, charts,
    takeaway); every core module and shared page helper <= 400."""
    import re
    routed = re.findall(r'st\.Page\("(pages/\w+\.py)"', (ROOT / "streamlit_app.py").read_text())
    assert len(routed) >= 7
    long_pages = {path: _lines(ROOT / path) for path in routed if _lines(ROOT / path) > 150}
    over = set(long_pages)
    big = {str(path.relative_to(ROOT)): _lines(path)
           for folder in ("core", "pages") for path in (ROOT / folder).rglob("*.py")
           if _lines(path) > 400}
    over |= set(big)
    assert not over, {**long_pages, **big}


def test_the_readme_layout_map_names_every_module():
    """The README's Layout section has one line per module, and no line for a module
    that is gone."""
    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout"):]
    modules = sorted(str(path.relative_to(ROOT)) for folder in ("core", "pages")
                     for path in (ROOT / folder).rglob("*.py")
                     if path.name != "__init__.py" or path.parent.name != folder)
    missing = [module for module in modules if f"`{module}`" not in layout]
    assert not missing, missing
    import re
    named = set(re.findall(r"`((?:core|pages)/[\w/]+\.py)`", layout))
    gone = sorted(name for name in named if not (ROOT / name).exists())
    assert not gone, gone


def test_axis_titles_are_spelled_once_in_charts_base():
    from core.charts import base
    titles = [base.LAYER_TITLE, base.LAYER_SHORT_TITLE, base.STEP_TITLE,
              base.TIME_STEP_TITLE, base.FRACTION_TITLE]
    for path in (ROOT / "core" / "charts").glob("*.py"):
        if path.name == "base.py":
            continue
        text = path.read_text()
        assert not [t for t in titles if f'"{t}"' in text], path
