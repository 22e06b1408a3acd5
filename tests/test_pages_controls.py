"""pages/controls.py beyond the per-page URL checks (tests/test_url_state.py): the
presenter mode, a switch of its own that every page accepts and keeps."""
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
