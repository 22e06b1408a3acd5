"""The home page and the command line's argument checks must not wait for TensorFlow."""
import subprocess
import sys

from conftest import ROOT

LIGHT = ["core", "core.spec", "core.cli", "core.diary", "core.summary", "core.charts",
         "core.multiplication", "core.warmup"]


def test_light_modules_do_not_import_tensorflow_or_streamlit():
    code = ("import sys\n" + "".join(f"import {name}\n" for name in LIGHT) +
            "print('tensorflow' in sys.modules, 'keras' in sys.modules, "
            "'streamlit' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.stdout.split() == ["False", "False", "False"], done.stderr


def test_core_never_imports_streamlit():
    for path in (ROOT / "core").glob("*.py"):
        assert "import streamlit" not in path.read_text(), path.name


def test_warm_up_runs_once_and_fills_the_cache():
    import core.profile
    from core import warmup
    from core.multiplication import identity_spec
    warmup.start_in_background()  # may already have run (the home page's AppTest)
    assert warmup.start_in_background() is False  # once per process
    core.profile._cache.pop(identity_spec(50, 1.5), None)
    warmup._warm()
    assert identity_spec(50, 1.5) in core.profile._cache
