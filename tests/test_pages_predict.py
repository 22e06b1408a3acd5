"""AppTest: "Predict first" on every topic page (pages/predict.py)."""
import pytest

from conftest import chart_specs

from core import challenges

TOPICS = ["problem", "why", "initialization", "phase", "activations", "remedies",
          "through_time"]


def panel_title(at) -> str:
    return next(e.label for e in at.expander if "Predict first" in e.label)


@pytest.mark.parametrize("page", TOPICS)
def test_every_topic_page_offers_its_challenges(app, page):
    at = app(f"pages/{page}.py")
    pick = at.selectbox(key=f"predict_pick_{page}")
    assert pick.options == [c.question for c in challenges.for_page(page)]
    assert "Predict first" in panel_title(at)


def test_hidden_until_committed_then_graded_with_the_guess_on_the_axis(app):
    at = app("pages/problem.py", {"challenge": "identity-explode"})
    assert at.selectbox(key="predict_pick_problem").value == "identity-explode"
    before = len(chart_specs(at))
    assert "Measured" not in str(chart_specs(at))  # nothing measured is shown yet
    assert at.button(key="predict_commit_identity-explode").disabled is False  # slider at 0
    at.slider(key="predict_answer_identity-explode").set_value(8.0).run()
    at.button(key="predict_commit_identity-explode").click().run()
    assert not at.exception, at.exception
    specs = chart_specs(at)
    assert len(specs) == before + 2  # the guess beside the measurement
    guess_chart = next(s for s in specs if "Your answer" in str(s))
    marks = [layer["mark"]["type"] for layer in guess_chart["layer"]]
    assert marks.count("rule") == 2  # the guess and the measurement, on one axis
    assert any("You said 10^8.0" in s.value and "10^8.6" in s.value for s in at.success)
    assert "your score 1 / 1" in panel_title(at)
    at.button(key="predict_again_identity-explode").click().run()
    at.selectbox(key="predict_pick_problem").set_value("identity-overflow").run()
    assert at.button(key="predict_commit_identity-overflow").disabled  # no choice yet
    at.radio(key="predict_answer_identity-overflow").set_value("never").run()
    at.button(key="predict_commit_identity-overflow").click().run()
    assert any("layers 101-150" in w.value for w in at.warning)
    assert "your score 1 / 2" in panel_title(at)


def test_a_bad_challenge_in_the_url_warns(app):
    at = app("pages/why.py", {"challenge": "<b>nope</b>"})
    assert any("`challenge`" in w.value and "ignored" in w.value for w in at.warning)
    assert not at.exception


def page_hidden(at) -> bool:
    """The page's results are hidden: HIDE_CSS is on the page, and the notice says so."""
    from pages.predict import HIDE_CSS
    styles = [element.proto.body for element in at.get("html")]
    return HIDE_CSS in styles and any("Predict first is on" in i.value for i in at.info)


def test_predict_first_hides_the_page_until_an_answer_is_committed(app):
    at = app("pages/problem.py")
    assert not page_hidden(at)  # off by default: the page is a normal page
    at.toggle(key="predict_hide_problem").set_value(True).run()
    assert page_hidden(at) and not at.exception
    assert at.slider(key="problem:depth").value == 50  # its controls stay usable
    at.slider(key="predict_answer_identity-explode").set_value(8.0).run()
    at.button(key="predict_commit_identity-explode").click().run()
    assert not page_hidden(at)  # committed: the page shows its measurements again
    at.button(key="predict_again_identity-explode").click().run()
    assert page_hidden(at)  # a new try hides them again
    at.switch_page("pages/why.py").run()
    assert at.toggle(key="predict_hide_why").value is True  # the switch is kept
    assert page_hidden(at) and not at.exception
    at.toggle(key="predict_hide_why").set_value(False).run()
    assert not page_hidden(at)
    at.switch_page("pages/problem.py").run()
    assert at.toggle(key="predict_hide_problem").value is False and not page_hidden(at)


def test_a_challenge_link_opens_with_predict_first_on(app):
    at = app("pages/activations.py", {"challenge": "dying-relu"})
    assert at.toggle(key="predict_hide_activations").value is True
    assert page_hidden(at) and not at.exception
