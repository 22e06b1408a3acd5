"""Every chart a page shows by default has a title, titled axes and tooltips."""
import re

import pytest

from conftest import ROOT, chart_specs

TOPIC_PAGES = [f"pages/{name}.py" for name in re.findall(
    r'st\.Page\("pages/(\w+)\.py"', (ROOT / "streamlit_app.py").read_text()) if name not in ("home", "classroom", "slides")]
# (the class poll draws charts only once a class runs: tests/test_pages_classroom.py;
# Slides lists decks, whose slides are the topic pages)


def _views(spec):
    """The single views of a (possibly layered or concatenated) Vega-Lite spec."""
    parts = [spec]
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for child in spec.get(key, []):
            parts.extend(_views(child))
    return parts


def _has_title(spec) -> bool:
    title = spec.get("title")
    return bool(title.get("text") if isinstance(title, dict) else title)


@pytest.mark.parametrize("page", TOPIC_PAGES)
def test_charts_have_titles_axis_titles_and_tooltips(app, page):
    at = app(page)
    specs = chart_specs(at)
    assert specs, f"{page} shows no chart by default"
    for spec in specs:
        views = _views(spec)
        assert any(_has_title(view) for view in views), f"untitled chart on {page}"
        encodings = [view.get("encoding", {}) for view in views]
        for channel in ("x", "y"):  # layers share axes: one titled layer titles it
            fields = [enc[channel] for enc in encodings
                      if channel in enc and "field" in enc[channel]]
            if fields:
                assert any(encoding.get("title") or (encoding.get("axis") or {}).get("title")
                           for encoding in fields), f"{page}: {channel} axis without a title"
        assert any("tooltip" in enc for enc in encodings) or any(
            isinstance(view.get("mark"), dict) and view["mark"].get("tooltip")
            for view in views), f"{page}: chart without tooltips: {_views(spec)[0].get('title')}"
