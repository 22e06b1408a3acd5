"""Shared test setup: the repo root on sys.path and an AppTest factory."""
import os
import pathlib
import sys
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # as core/tf_setup.py: see there
# The class poll's SQLite file: one per test process (each pytest-xdist worker has its
# own), never the user's own.
os.environ["GRADIENT_LAB_DATABASE_PATH"] = (
    tempfile.mkdtemp(prefix="gradient_lab_") + "/classroom.sqlite")


def _route_like_the_server() -> None:
    """AppTest resets Streamlit's legacy pages/ flag before every run, so each run would
    start in legacy mode and pages/ui.py would rerun it through the router, losing a
    button click. The server sets the flag once per process; do the same here (the
    browser tests cover the workaround itself)."""
    from streamlit.testing.v1 import app_test

    class RoutedPagesManager(app_test.PagesManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            app_test.PagesManager.uses_pages_directory = False

    if app_test.PagesManager.__name__ != "RoutedPagesManager":
        app_test.PagesManager = RoutedPagesManager


_route_like_the_server()


@pytest.fixture
def app():
    """app("pages/problem.py") -> an AppTest that ran the router, then switched there."""
    from streamlit.testing.v1 import AppTest

    def open_page(page: str | None = None, query: dict | None = None):
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180)
        if not page:
            at.query_params.update(query or {})
        at.run()
        if page:  # a deep link: the page opened with its query string
            at.query_params.clear()
            at.query_params.update(query or {})
            at.switch_page(page).run()
        assert not at.exception, at.exception
        return at
    return open_page


def chart_specs(at):
    """The Vega-Lite JSON specs of every chart on an AppTest page."""
    import json
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (the browser tests screenshot failures)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def pytest_sessionfinish(session, exitstatus):
    """Let background TensorFlow work (the home page's warm-up, a class poll's
    prefetched measurement) finish before the interpreter exits: a daemon thread killed
    inside TensorFlow aborts the process ("terminate called ...", exit status 134)."""
    import threading
    for thread in threading.enumerate():
        if thread.daemon and (thread.name == "gradient-lab-warmup"
                              or thread.name.startswith("challenge ")):
            thread.join(timeout=600)
