"""Shared test setup: the repo root on sys.path and an AppTest factory."""
import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture
def app():
    """app("pages/problem.py") -> an AppTest that ran the router, then switched there."""
    from streamlit.testing.v1 import AppTest

    def open_page(page: str | None = None, query: dict | None = None):
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
        if page:
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
