"""Class poll: the instructor asks a challenge, students predict, then the reveal."""
import streamlit as st

from core.classroom import CODE_LENGTH, ClassroomError
from pages import classroom_instructor as teacher, classroom_student as student
from pages import classroom_ui as room, ui

st.title("🧑‍🏫 Class poll: predict, then reveal")
ui.intro(
    "People learn this best by committing to a prediction first. The instructor starts "
    "a class and asks a question (\"what will the gradient at layer 1 be?\"); everyone "
    "answers on their phone; the projector shows the class's answers as they come in; "
    "then the **reveal** runs the real Keras network and shows the measurement beside "
    "the class's guesses. Nothing is stored by hand: every answer is measured live.")

controls = ui.Controls("classroom")
try:
    db = room.database()
except Exception as error:  # noqa: BLE001 - a broken database URL: say so, no traceback
    room.show_error(error)
    st.stop()

role = st.segmented_control(
    "I am", ["a student", "the instructor"], default="a student", key="classroom_role",
    required=True, help="Students join with the room code; the instructor starts a class.")

if role == "a student":
    held = st.session_state.get(room.STUDENT)
    if held is None:
        st.subheader("Join a class")
        code = controls.text_input(
            "Room code", "room", "", room.parse_code, f"{CODE_LENGTH} letters and digits",
            "K7QX2", max_chars=12, placeholder="K7QX2",
            help="The code on the projector, or open the join link.")
        st.text_input("Your name (optional)", key="classroom_name", max_chars=30,
                      help="Shown to the instructor; leave empty to stay anonymous.")
        st.button("Join", key="classroom_join", type="primary", icon="🙋", width="stretch",
                  on_click=student.join, args=(db, controls.key("room")),
                  disabled=not code.strip())
        problem = st.session_state.pop("classroom_problem", None)
        if problem:
            st.error(problem, icon="⚠️")
    else:
        code, token = held
        student.student_live(db, code, token)
        if st.button("Leave this class", key="classroom_leave", type="tertiary"):
            st.session_state.pop(room.STUDENT)
            st.rerun()
else:
    held = st.session_state.get(room.INSTRUCTOR)
    if held is None or not db.is_instructor(*held):
        st.subheader("Start a class")
        st.markdown("You get a room code, a join link and a QR code to project. Rooms "
                    "last four hours; the room's secret stays in this browser tab.")
        st.button("Start a class", key="classroom_start", type="primary", icon="🚀",
                  on_click=teacher.start_class, args=(db,))
    else:
        code, secret = held
        try:
            state = db.state(code)
        except ClassroomError as error:
            room.show_error(error)
            st.stop()
        asked = state["question"] is not None
        card, live = st.columns([1, 3] if asked else [1, 2], gap="large")
        with card:
            teacher.room_card(code, big=not asked)
            if not state["closed"]:
                teacher.pick_question(db, code, secret)
        with live:
            teacher.instructor_live(db, code, secret)
        if not state["closed"]:
            st.button("End the class", key="classroom_close", icon="🏁",
                      on_click=teacher.close, args=(db, code, secret),
                      help="Closes the room (answers stop) and shows the summary.")
        else:
            teacher.summary(db, code, secret)
            st.button("Start a new class", key="classroom_restart", icon="🚀",
                      on_click=teacher.start_class, args=(db,))
