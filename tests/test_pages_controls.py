"""pages/controls.py beyond the per-page URL checks (tests/test_url_state.py): the
presenter mode, a switch of its own that every page accepts and keeps."""
import json

from conftest import ROOT, chart_specs  # noqa: F401 - ROOT puts the repo on sys.path


def presenter(at):
    return at.toggle(key="ui:present")


def test_present_true_in_a_link_turns_presenter_mode_on_and_hides_intros(app):
    plain = app("pages/problem.py")
    shown = app("pages/problem.py", {"present": "true"})
    assert presenter(shown).value is True and not shown.warning
    assert shown.query_params.get("present") in ("true", ["true"])
    assert len(shown.markdown) < len(plain.markdown)  # the intro is gone


def test_presenter_mode_survives_a_page_switch_and_turns_off(app):
    at = app("pages/problem.py", {"present": "true"})
    at.query_params.clear()  # the browser opens the next page with a clean URL
    at.switch_page("pages/why.py").run()
    assert not at.exception and presenter(at).value is True
    assert at.query_params.get("present") in ("true", ["true"])
    presenter(at).set_value(False).run()
    assert "present" not in at.query_params


def test_a_bad_present_value_warns_and_is_off(app):
    at = app("pages/problem.py", {"present": "<b>maybe</b>"})
    assert presenter(at).value is False
    text = " ".join(w.value for w in at.warning)
    assert "present" in text and "<b>maybe</b>" in text


def test_reset_restores_the_page_defaults_and_clears_the_url(app):
    at = app("pages/problem.py", {"depth": "20", "gain": "0.5"})
    reset = at.button(key="reset:problem")
    assert not reset.disabled and at.query_params.get("depth") in ("20", ["20"])
    reset.click().run()
    assert not at.exception
    assert "depth" not in at.query_params and "gain" not in at.query_params
    assert at.button(key="reset:problem").disabled  # nothing left to reset
    assert at.slider(key="problem:depth").value == 50


# --- Presenter mode: each section's controls beside its chart ---------------------------
FIRST_SLIDER_AND_CHART = {
    "pages/problem.py": ("problem:depth", "chart_forward"),
    "pages/why.py": ("why:z_range", "chart_curves"),
    "pages/initialization.py": ("initialization:depth", "chart_forward"),
    "pages/through_time.py": ("through_time:gain", "chart_through_time"),
    "pages/activations.py": ("activations:negative_slope", "curves_value"),
    "pages/remedies.py": ("remedies:steps", "remedies_init_chart"),
}
SMALL = {"pages/initialization.py": {"grid_depth": "10", "sweep_depth": "5", "depth": "8"},
         "pages/through_time.py": {"steps": "10", "units": "8"}}


def side_by_side(at):
    """(left, right) for every row of exactly two columns on the page."""
    from streamlit.testing.v1.element_tree import Column

    def blocks(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from blocks(child)
    for block in blocks(at.main):
        columns = [child for child in getattr(block, "children", {}).values()
                   if isinstance(child, Column)]
        if len(columns) == 2:
            yield columns


def slider_beside_chart(at, slider: str, chart: str) -> bool:
    for left, right in side_by_side(at):
        keys = {w.key for w in left.slider} | {w.key for w in left.select_slider}
        charts = {button.key for button in right.get("download_button")}
        if slider in keys and f"{chart}_png" in charts and not right.slider:
            return True
    return False


def test_presenter_mode_puts_the_first_slider_beside_the_chart_it_drives(app):
    for page, (slider, chart) in FIRST_SLIDER_AND_CHART.items():
        plain = app(page, SMALL.get(page))
        assert not slider_beside_chart(plain, slider, chart), page  # stacked as before
        shown = app(page, {**SMALL.get(page, {}), "present": "true"})
        assert slider_beside_chart(shown, slider, chart), page


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
                assert widget.key and widget.key.startswith(controls.page + ":"), \
                    (page, kind, widget.key)
                assert widget.key.split(":", 1)[1] in controls.fields, (page, widget.key)
