"""pages/presenter.py: presenter mode, a switch of its own that every page accepts and
keeps (also ?present=true), which puts each section's controls beside its chart; and
the Reset button."""
from conftest import ROOT  # noqa: F401 - puts the repo on sys.path


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
    "pages/phase.py": ("phase:depth", "chart_phase"),
}
SMALL = {"pages/phase.py": {"depth": "10", "width": "64"},
         "pages/initialization.py": {"grid_depth": "10", "sweep_depth": "5", "depth": "8"},
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


# Sections added after the first: their own slider beside their own chart too.
LATER_SECTIONS = {
    "pages/remedies.py": ("remedies:residual_depth", "residual_forward"),
    "pages/initialization.py": ("initialization:seeds_depth", "chart_seeds_fan"),
    "pages/activations.py": ("activations:dead_depth", "chart_born_dead"),
}


def test_presenter_mode_puts_later_sections_sliders_beside_their_charts(app):
    for page, (slider, chart) in LATER_SECTIONS.items():
        plain = app(page, SMALL.get(page))
        assert not slider_beside_chart(plain, slider, chart), page
        shown = app(page, {**SMALL.get(page, {}), "present": "true"})
        assert slider_beside_chart(shown, slider, chart), page


def test_presenter_mode_puts_the_first_slider_beside_the_chart_it_drives(app):
    for page, (slider, chart) in FIRST_SLIDER_AND_CHART.items():
        plain = app(page, SMALL.get(page))
        assert not slider_beside_chart(plain, slider, chart), page  # stacked as before
        shown = app(page, {**SMALL.get(page, {}), "present": "true"})
        assert slider_beside_chart(shown, slider, chart), page
