"""AppTest for the born-dead section (pages/born_dead_section.py) on Activations: the
chart and sentence at the URL's depth, the control, a bad value."""
from tests.conftest import chart_specs

PAGE = "pages/activations.py"


def titles(at) -> list[str]:
    return [spec.get("title", {}).get("text", "") for spec in chart_specs(at)]


def test_born_dead_on_activations_before_dying_relu(app):
    at = app(PAGE, {"dead_depth": "20"})
    headers = [h.value for h in at.header]
    assert headers.index("Born dead") == headers.index("Dying ReLU, live") - 1
    assert "Born dead: ReLU networks of depth 20 dead before training" in titles(at)
    assert any(m.value.startswith("At depth 20: ") for m in at.markdown)
    at.select_slider(key="activations:dead_depth").set_value(100).run()
    assert not at.exception
    assert "Born dead: ReLU networks of depth 100 dead before training" in titles(at)
    assert at.query_params["dead_depth"] == "100"
    keys = [button.key for button in at.get("download_button")]
    assert "download_born_dead" in keys and "chart_born_dead_png" in keys


def test_a_bad_url_value_warns_and_falls_back(app):
    at = app(PAGE, {"dead_depth": "deep"})
    assert any("dead_depth" in w.value for w in at.warning)
    assert at.select_slider(key="activations:dead_depth").value == 50
