"""pages/server.py: the Streamlit internals it replaces are there, and the replacement
works: no keras clear_session after a script run, charts converted unvalidated, Keras
models built in other threads while sessions rerun never collide. The training slots
are tests/test_pages_training_runs.py."""
import inspect
import json
import os
import pathlib
import subprocess
import sys
import textwrap
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = """
import streamlit as st
from pages import server
server.tune()
st.write("ran")
"""


def test_the_streamlit_internals_we_replace_are_still_there():
    # Loud on purpose: if a Streamlit upgrade renames these, the tuning silently stops.
    from streamlit.elements import vega_charts
    from streamlit.runtime.scriptrunner import script_runner
    clean = getattr(script_runner, "_clean_problem_modules", None)
    assert callable(getattr(clean, "__wrapped__", clean)), \
        "streamlit's script_runner._clean_problem_modules is gone: update pages/server.py"
    assert "_clean_problem_modules" in inspect.getsource(script_runner.ScriptRunner._run_script), \
        "ScriptRunner._run_script no longer calls _clean_problem_modules: update pages/server.py"
    convert = getattr(vega_charts, "_convert_altair_to_vega_lite_spec", None)
    assert callable(convert), \
        "streamlit's vega_charts._convert_altair_to_vega_lite_spec is gone: update pages/server.py"
    source = inspect.getsource(getattr(convert, "__wrapped__", convert))
    assert "altair_chart.to_dict()" in source, "Streamlit now converts charts differently"
    assert "_convert_altair_to_vega_lite_spec(altair_chart)" in inspect.getsource(vega_charts)


def test_tune_is_idempotent_and_reports_what_it_changed():
    from streamlit.runtime.scriptrunner import script_runner

    from pages import server
    first = server.tune()
    assert server.tune() == first == {"keep_keras_state": True,
                                      "skip_chart_validation": True,
                                      "altair_no_debug_mode": True,
                                      "one_blas_thread": True}
    from altair.utils import schemapi
    assert schemapi.DEBUG_MODE is False
    assert script_runner._clean_problem_modules is server._clean_problem_modules_except_keras
    assert script_runner._clean_problem_modules.__wrapped__ is not \
        server._clean_problem_modules_except_keras


def test_blas_gets_one_thread_now_and_in_libraries_loaded_later():
    """In a fresh process: numpy's OpenBLAS (loaded before tune) through threadpoolctl,
    scipy's (loaded after) through OPENBLAS_NUM_THREADS."""
    code = textwrap.dedent("""
        import json, numpy, threadpoolctl
        def blas():
            return {i["filepath"]: i["num_threads"] for i in threadpoolctl.threadpool_info()
                    if i["user_api"] == "blas"}
        before = blas()
        from pages import server
        server.tune()
        import scipy.linalg
        print(json.dumps([before, blas()]))
        """)
    env = {key: value for key, value in os.environ.items()
           if key not in ("OPENBLAS_NUM_THREADS", "GRADIENT_LAB_NO_TUNING")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120, cwd=ROOT, check=True)
    before, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(after) == len(before) + 1  # numpy's, then scipy's
    assert set(after.values()) == {1}, after
    if os.cpu_count() > 1:
        assert max(before.values()) > 1  # what tune() changed


@pytest.fixture
def clear_spy(monkeypatch):
    import keras
    calls = []
    original = keras.backend.clear_session
    monkeypatch.setattr(keras.backend, "clear_session",
                        lambda *a, **k: (calls.append(threading.current_thread().name),
                                         original(*a, **k))[1])
    return calls


def test_a_script_run_no_longer_clears_the_keras_session(clear_spy):
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_string(SCRIPT, default_timeout=60)
    at.run()
    at.run()
    assert not at.exception and at.markdown[0].value == "ran"
    assert clear_spy == []
    # The spy does see Streamlit's own cleanup, which this module replaced:
    script_runner._clean_problem_modules.__wrapped__()
    assert len(clear_spy) == 1


def test_a_real_page_run_does_not_clear_the_keras_session(clear_spy, app):
    at = app("pages/problem.py")
    at.slider(key="problem:depth").set_value(13).run()
    assert not at.exception
    assert len(at.get("vega_lite_chart")) >= 3
    assert clear_spy == []


def test_altair_charts_reach_streamlit_unvalidated_and_unchanged(monkeypatch):
    import altair as alt
    import pandas as pd
    from streamlit.elements import vega_charts

    from pages import server
    server.tune()
    chart = alt.Chart(pd.DataFrame({"x": [1, 2], "y": [3, 4]})).mark_line().encode(
        x="x", y="y")
    seen = []
    real = alt.Chart.to_dict

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("validate", args[0] if args else True))
        return real(self, *args, **kwargs)
    monkeypatch.setattr(alt.Chart, "to_dict", spy)
    fast = vega_charts._convert_altair_to_vega_lite_spec(chart)
    assert seen == [False]
    slow = vega_charts._convert_altair_to_vega_lite_spec.__wrapped__(chart)
    assert seen == [False, True]
    assert fast.keys() == slow.keys() and fast["encoding"] == slow["encoding"]
    assert len(fast["datasets"]) == 1  # Streamlit's Arrow transformer still applied
    again = vega_charts._convert_altair_to_vega_lite_spec(chart)  # kept: no to_dict()
    assert seen == [False, True] and again == fast and again is not fast
    again["datasets"].clear()  # Streamlit moves the datasets out of its copy
    assert len(vega_charts._convert_altair_to_vega_lite_spec(chart)["datasets"]) == 1


def test_functional_models_in_threads_survive_concurrent_reruns():
    """The hazard: clear_session in one thread resets every thread's layer names."""
    import keras
    from streamlit.testing.v1 import AppTest

    from pages import server
    server.tune()
    errors, built, stop = [], [0], threading.Event()

    def build():
        while not stop.is_set():
            try:
                inputs = keras.Input((4,))
                hidden = inputs
                for _ in range(3):
                    hidden = keras.layers.Dense(4)(hidden)
                keras.Model(inputs, hidden)
                built[0] += 1
            except Exception as error:  # noqa: BLE001 - collected and asserted on
                errors.append(repr(error))

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        at = AppTest.from_string(SCRIPT, default_timeout=60)
        reruns, deadline = 0, time.monotonic() + 120
        while (reruns < 40 or built[0] < 200) and time.monotonic() < deadline:
            at.run()
            assert not at.exception
            reruns += 1
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert reruns >= 40 and built[0] >= 200
