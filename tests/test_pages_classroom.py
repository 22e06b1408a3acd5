"""AppTest: the class poll with an instructor session and student sessions, one SQLite
file between them (GRADIENT_LAB_DATABASE_PATH, set by conftest.py)."""
import re

from conftest import chart_specs

from core import challenges
from core.classroom import Classroom

CHOICE = "relu-init"


def texts(at) -> str:
    parts = [e.value for kind in ("markdown", "text", "info", "success", "warning",
                                  "error", "caption", "subheader", "code")
             for e in getattr(at, kind)]
    return "\n".join(map(str, parts))


def instructor(app):
    at = app("pages/classroom.py")
    at.button_group(key="classroom_role").set_value("the instructor").run()
    at.button(key="classroom_start").click().run()
    assert not at.exception, at.exception
    code = re.search(r"# `([A-Z0-9]{5})`", texts(at)).group(1)
    return at, code


def student(app, code, name=None):
    at = app("pages/classroom.py", {"room": code})  # the join link
    assert at.text_input(key="classroom:room").value == code
    if name:
        at.text_input(key="classroom_name").set_value(name).run()
    at.button(key="classroom_join").click().run()
    assert not at.exception, at.exception
    return at


def test_a_whole_question_instructor_and_students(app):
    teacher, code = instructor(app)
    assert "?room=" + code in texts(teacher)  # the join link
    assert teacher.get("image")  # the QR code
    ana = student(app, code, "<b>Ana</b>")
    ben = student(app, code)
    assert "Waiting for the instructor" in texts(ana)
    assert "<b>Ana</b>" in [t.value for t in ana.text][0]  # shown as text, not markup
    teacher.selectbox(key="classroom_pick").set_value(CHOICE).run()
    teacher.button(key="classroom_ask").click().run()
    assert "Question 1" in texts(teacher)
    ana.run(), ben.run()
    ana.radio(key="classroom_answer_1").set_value("glorot_normal").run()
    ana.button(key="classroom_answer_1_send").click().run()
    assert "Received: glorot_normal" in texts(ana)
    ana.radio(key="classroom_answer_1").set_value("he_normal").run()
    ana.button(key="classroom_answer_1_send").click().run()  # changed
    assert "Received: he_normal" in texts(ana)
    ben.radio(key="classroom_answer_1").set_value("random_normal").run()
    ben.button(key="classroom_answer_1_send").click().run()
    teacher.run()
    metrics = {m.label: m.value for m in teacher.metric}
    assert metrics == {"Joined": "2", "Answered": "2 / 2"}
    tally = chart_specs(teacher)[-1]
    assert "The class's answers" in str(tally)
    teacher.button(key="classroom_reveal").click().run()
    assert not teacher.exception, teacher.exception
    measured = challenges.measure(CHOICE).answer
    assert f"Measured: {measured}" in texts(teacher)
    assert len(chart_specs(teacher)) == 2  # the class's answers beside the measurement
    ana.run(), ben.run()
    assert "You were right" in texts(ana) and "Not this time" in texts(ben)
    teacher.button(key="classroom_close").click().run()
    frame = teacher.dataframe[0].value
    assert frame["answers"].tolist() == [2] and frame["right"].tolist() == [1]
    assert teacher.get("download_button")
    ana.run()
    assert "This class has ended" in texts(ana)


def test_a_student_cannot_act_as_the_instructor(app):
    teacher, code = instructor(app)
    eve = student(app, code, "Eve")
    # a student's page has no instructor controls, whatever the URL says
    for query in ({"room": code, "secret": "x"}, {"room": code, "reveal": "true"}):
        at = app("pages/classroom.py", query)
        assert not [b for b in at.button if b.key in ("classroom_reveal", "classroom_ask",
                                                      "classroom_close")]
        assert any("not a setting" in w.value for w in at.warning)
    # switching to the instructor view without the secret only offers a new room
    eve.button_group(key="classroom_role").set_value("the instructor").run()
    assert eve.button(key="classroom_start") and not [
        b for b in eve.button if b.key in ("classroom_reveal", "classroom_ask")]
    # a student token in the instructor's slot of session state is refused too
    token = eve.session_state["classroom_student"][1]
    eve.session_state["classroom_instructor"] = (code, token)
    eve.run()
    assert not [b for b in eve.button if b.key in ("classroom_reveal", "classroom_ask")]
    assert Classroom().state(code)["question"] is None


def test_bad_codes_and_names_give_clear_messages(app):
    at = app("pages/classroom.py", {"room": "<b>x</b>"})
    assert any("`room`" in w.value and "5 letters and digits" in w.value
               for w in at.warning)
    assert at.text_input(key="classroom:room").value == ""
    at.text_input(key="classroom:room").set_value("ZZZZ9").run()
    at.button(key="classroom_join").click().run()
    assert any("no room ZZZZ9" in e.value for e in at.error)
    teacher, code = instructor(app)
    at.text_input(key="classroom:room").set_value(code.lower()).run()
    at.text_input(key="classroom_name").set_value("a\u0007b").run()
    at.button(key="classroom_join").click().run()
    assert any("control characters" in e.value for e in at.error)
    assert not at.exception


def test_every_challenge_page_has_a_name_in_the_picker():
    from core.challenge_bank import BANK
    from pages.classroom_ui import PAGE_NAMES
    assert {challenge.page for challenge in BANK} <= set(PAGE_NAMES)


def test_a_name_typed_then_join_clicked_at_once_is_kept(app):
    """A browser that types a name and clicks Join straight away sends both in one rerun
    (the text box's own rerun is cut short by the click's): the join must read the boxes
    at the click, not the arguments the button was drawn with (found by
    benchmarks/bench_poll_server.py; the name was lost)."""
    _, code = instructor(app)
    at = app("pages/classroom.py", {"room": code})
    at.text_input(key="classroom_name").set_value("Ada")
    at.button(key="classroom_join").click().run()
    assert not at.exception, at.exception
    assert "you are Ada" in texts(at)
    other = app("pages/classroom.py", {"room": "ZZZZZ"})  # a wrong code in the link,
    other.text_input(key="classroom:room").set_value(code.lower())  # corrected by hand
    other.button(key="classroom_join").click().run()
    assert "Waiting for the instructor" in texts(other)
    assert Classroom().students(code) == ["Ada", None]
