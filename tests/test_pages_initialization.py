"""AppTest for the "Initialization" page, with widget changes."""
import json

from tests.conftest import chart_specs

INIT = "pages/initialization.py"
# Small settings keep the first render of the Initialization page cheap.
SMALL_INIT = {"grid_depth": "10", "sweep_depth": "5", "depth": "8"}


def test_initialization_page_renders_and_reacts(app):
    at = app(INIT, SMALL_INIT)
    assert at.title[0].value.startswith("🎚️")
    assert any("Keras drew" in m.value for m in at.markdown)
    assert any("Goldilocks" in spec.get("title", {}).get("text", "")
               for spec in chart_specs(at))
    assert any("36 Keras networks, depth 10" in c.value for c in at.caption)
    count = len(chart_specs(at))

    at.number_input(key="initialization:n_in").set_value(64).run()
    assert not at.exception
    at.multiselect(key="initialization:inits").select("lecun_normal").run()
    assert not at.exception
    specs = json.dumps(chart_specs(at))  # colour domains list the series names
    assert "lecun_normal: measured" in specs
    at.selectbox(key="initialization:activation").set_value("tanh").run()
    at.slider(key="initialization:sweep_depth").set_value(10).run()
    assert not at.exception
    assert len(chart_specs(at)) == count
    assert any("edge of chaos" in m.value for m in at.markdown)


def test_initialization_page_empty_selection_and_bad_url(app):
    at = app(INIT, {**SMALL_INIT, "n_in": "-3"})
    assert any("n_in" in w.value for w in at.warning)
    assert "Using `128`" in at.warning[0].value and at.number_input(
        key="initialization:n_in").value == 128  # the value named is the value used
    at.multiselect(key="initialization:inits").set_value([]).run()
    assert not at.exception
    assert not at.warning  # no URL warning, and the stale one is gone
    assert any("Choose one to four" in i.value for i in at.info)
    headers = [h.value for h in at.header]
    assert "4. The Goldilocks zone" in headers  # the page does not collapse
    assert any("Takeaway" in i.value for i in at.info)


def test_initialization_takeaway_agrees_with_the_grid_and_one_init_is_enough(app):
    at = app(INIT, SMALL_INIT)
    takeaway = next(i.value for i in at.info if "Takeaway" in i.value)
    assert "Glorot for tanh and sigmoid" not in takeaway
    assert "sigmoid" in takeaway and "vanishes" in takeaway
    assert at.multiselect(key="initialization:inits").label == "Initializations (1 to 4)"
    at.multiselect(key="initialization:inits").set_value(["he_normal"]).run()
    assert not at.exception and not at.warning
