"""The home page and the command line's argument checks must not wait for TensorFlow."""
import subprocess
import sys

from conftest import ROOT

LIGHT = ["core", "core.spec", "core.cli", "core.summary", "core.charts",
         "core.experiments.problem", "pages.warmup"]


def test_light_modules_do_not_import_tensorflow_or_streamlit():
    code = ("import sys\n" + "".join(f"import {name}\n" for name in LIGHT) +
            "print('tensorflow' in sys.modules, 'keras' in sys.modules, "
            "'streamlit' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.stdout.split() == ["False", "False", "False"], done.stderr


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


def test_warm_up_runs_once_and_fills_the_cache():
    import core.per_layer
    from pages import warmup
    from core.experiments.problem import identity_spec
    warmup.start_in_background()  # may already have run (the home page's AppTest)
    assert warmup.start_in_background() is False  # once per process
    core.per_layer._profile.forget(identity_spec(50, 1.5))
    warmup._warm()
    assert core.per_layer._profile.contains(identity_spec(50, 1.5))
