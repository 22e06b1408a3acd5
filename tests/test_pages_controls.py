"""pages/controls.py and pages/ui.py beyond the per-page URL checks
(tests/test_url_state.py): pin this curve, and every control in the share link.
Presenter mode and Reset are tests/test_pages_presenter.py."""
import json

from conftest import ROOT, chart_specs  # noqa: F401 - ROOT puts the repo on sys.path
from test_pages_presenter import FIRST_SLIDER_AND_CHART, SMALL


# --- Pin this curve -----------------------------------------------------------------------
def spec_text(at) -> str:
    return json.dumps(chart_specs(at), ensure_ascii=False)


def sidebar_captions(at) -> str:
    return " ".join(caption.value for caption in at.sidebar.caption)


def test_pin_keeps_a_half_beside_a_one_and_a_half_on_the_problem_page(app):
    at = app("pages/problem.py", {"gain": "0.5"})
    assert "pinned" not in spec_text(at) and not any(b.key == "unpin:problem" for b in at.button)
    at.button(key="pin:problem").click().run()
    assert "pinned" not in spec_text(at)  # the same setting: nothing to draw beside it
    assert any("Pinned: a = 0.5, L = 50, float32" in c.value for c in at.caption)
    at.button(key="explode").click().run()  # a = 1.5
    assert not at.exception and at.slider(key="problem:gain").value == 1.5
    for spec in chart_specs(at)[:2]:  # forward and backward
        text = json.dumps(spec, ensure_ascii=False)
        assert "pinned: a = 0.5, L = 50, float32" in text and "a = 1.5" in text
    assert "pinned" not in str(dict(at.query_params))
    assert "not the pinned curve" in sidebar_captions(at)
    at.button(key="unpin:problem").click().run()
    assert "pinned" not in spec_text(at) and "pinned curve" not in sidebar_captions(at)
    assert any(b.key == "pin:problem" for b in at.button)


def test_reset_also_unpins(app):
    at = app("pages/problem.py", {"gain": "0.5"})
    at.button(key="pin:problem").click().run()
    at.button(key="reset:problem").click().run()
    assert not at.exception and at.slider(key="problem:gain").value == 1.5
    assert "pinned" not in spec_text(at) and any(b.key == "pin:problem" for b in at.button)


def test_pin_keeps_glorot_beside_he_on_the_initialization_page(app):
    at = app("pages/initialization.py", {"grid_depth": "10", "sweep_depth": "5",
                                         "depth": "8", "inits": "glorot_normal"})
    at.button(key="pin:initialization").click().run()
    at.multiselect(key="initialization:inits").set_value(["he_normal"]).run()
    assert not at.exception
    text = spec_text(at)
    assert "he_normal: measured" in text
    assert "pinned: glorot_normal (relu, depth 8): measured" in text
    assert "pinned: glorot_normal (relu, depth 8): theory" not in text  # measured only
    assert any("Pinned: glorot_normal, relu, depth 8" in c.value for c in at.caption)
    at.button(key="unpin:initialization").click().run()
    assert "pinned" not in spec_text(at)


def test_every_control_of_these_pages_is_in_the_share_link(app):
    """Each widget a user sets is declared through ui.Controls (a page-scoped key, a URL
    name); the rest (the presenter switch) has its own URL parameter."""
    kinds = ("slider", "select_slider", "selectbox", "radio", "number_input",
             "multiselect", "toggle", "text_input", "checkbox")
    for page in FIRST_SLIDER_AND_CHART:
        at = app(page, SMALL.get(page))
        controls = at.session_state["_ui_controls"]
        for kind in kinds:
            for widget in getattr(at, kind):
                if widget.key == "ui:present":
                    continue
                if widget.key.startswith("predict_"):  # a student's guess, kept out of
                    continue  # links on purpose; the challenge itself is ?challenge=KEY
                assert widget.key and widget.key.startswith(controls.page + ":"), \
                    (page, kind, widget.key)
                assert widget.key.split(":", 1)[1] in controls.fields, (page, widget.key)
