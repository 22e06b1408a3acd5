"""AppTest for Initialization's finite-width section (pages/initialization_seeds.py):
the fan of seeds and the spread against depth/width, the controls changed."""
import json

from tests.conftest import chart_specs

INIT = "pages/initialization.py"
SMALL = {"grid_depth": "10", "sweep_depth": "5", "depth": "8", "seeds_depth": "5"}


def titles(at) -> list[str]:
    return [spec.get("title", {}).get("text", "") for spec in chart_specs(at)]


def test_the_fan_and_the_spread_react_to_width_depth_and_init(app):
    at = app(INIT, SMALL)
    assert "5. One seed is not the whole story" in [h.value for h in at.header]
    assert "One seed is not the whole story: 100 seeds, width 16" in titles(at)
    assert any("lottery" in title for title in titles(at))
    assert any("variance over seeds" in m.value and "width 128" in m.value for m in at.markdown)
    specs = json.dumps(chart_specs(at), ensure_ascii=False)
    assert "theory −5l/(2n) ± 2√(5l/n)" in specs and "theory 5·l/n" in specs

    at.select_slider(key="initialization:seeds_width").set_value(8).run()
    assert not at.exception
    assert "One seed is not the whole story: 100 seeds, width 8" in titles(at)
    at.select_slider(key="initialization:seeds_depth").set_value(10).run()
    assert not at.exception
    assert any("At depth 10" in m.value for m in at.markdown)
    assert at.query_params["seeds_depth"] == "10" and at.query_params["seeds_width"] == "8"
    at.selectbox(key="initialization:seeds_init").set_value("orthogonal").run()
    assert not at.exception
    specs = json.dumps(chart_specs(at), ensure_ascii=False)
    assert "theory −5l/(2n) ± 2√(5l/n)" not in specs
    assert any("He initialization only" in c.value for c in at.caption)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download the seeds (CSV)" in labels and "Download the spread (CSV)" in labels


def test_a_bad_url_value_warns_and_falls_back(app):
    at = app(INIT, {**SMALL, "seeds_width": "7"})
    assert any("seeds_width" in w.value for w in at.warning)
    assert at.select_slider(key="initialization:seeds_width").value == 16
