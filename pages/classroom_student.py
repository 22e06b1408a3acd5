"""A student in the class poll: join with the room code, answer the question on the
screen, see the reveal beside the class's answers."""
from __future__ import annotations

import streamlit as st

from core import challenges, classroom
from core.classroom import ClassroomError
from pages.classroom_ui import REFRESH, STUDENT, reveal, session_id, show_error


def join(db, code_key: str) -> None:
    """Join with the room code and name as the boxes hold them at the click: a name typed
    and Join clicked straight away arrive in the click's own rerun, after the button's
    arguments were fixed."""
    code = st.session_state.get(code_key) or ""
    try:
        token = db.join(code, st.session_state.get("classroom_name"),
                        session=session_id())
    except ClassroomError as error:
        st.session_state["classroom_problem"] = str(error)
        return
    st.session_state[STUDENT] = (classroom.clean_code(code), token)


def _send(db, code, token, number, key) -> None:
    try:
        db.answer(code, token, number, st.session_state.get(key), session=session_id())
        st.session_state.pop("classroom_problem", None)
    except (ClassroomError, ValueError) as error:
        st.session_state["classroom_problem"] = str(error)


def answer_box(db, code, token, challenge, number, mine) -> None:
    key = f"classroom_answer_{number}"
    if challenge.kind == "decades":
        st.slider("Your answer: 10 to the power of (decades)", float(challenge.low),
                  float(challenge.high), float(mine) if mine is not None else 0.0,
                  step=0.5, key=key,
                  help="−3 means 10⁻³ = 0.001; +2 means 10² = 100. Right within one "
                       "decade of the measurement.")
    else:
        st.radio("Your answer", challenge.choices, key=key,
                 index=challenge.choices.index(mine) if mine in challenge.choices else None)
    st.button("Change my answer" if mine is not None else "Send my answer", key=f"{key}_send",
              type="primary", on_click=_send, args=(db, code, token, number, key),
              width="stretch")
    if mine is not None:
        st.caption("Received: " + challenges.answer_text(
            challenge, float(mine) if challenge.kind == "decades" else mine)
            + ". You can change it until the reveal.")


@st.fragment(run_every=REFRESH)
def student_live(db, code, token) -> None:
    try:
        state = db.state(code, token)
    except Exception as error:  # noqa: BLE001 - shown, never a traceback
        show_error(error)
        return
    mine = state["mine"]
    st.text(f"Room {code}" + (f" · you are {mine['name']}" if mine["name"] else ""))
    question = state["question"]
    if state["closed"] or state["expired"]:
        st.info("This class has ended. Thank you!", icon="👋")
        return
    if question is None:
        st.info("Waiting for the instructor's first question...", icon="⏳")
        return
    challenge = challenges.get(question["challenge"])
    st.subheader(f"Question {question['number']}")
    st.markdown(challenge.question)
    problem = st.session_state.pop("classroom_problem", None)
    if problem:
        st.error(problem, icon="⚠️")
    if not question["revealed"]:
        answer_box(db, code, token, challenge, question["number"], mine["answer"])
        return
    guess = mine["answer"]
    measurement = challenges.measure(challenge.key)
    if guess is None:
        st.info("You did not answer this one.")
    elif challenges.grade(challenge, guess, measurement.answer):
        st.success("You were right!", icon="🎉")
    else:
        st.warning("Not this time.", icon="🤔")
    reveal(challenge, db.answers(code, question["number"]),
           guess=float(guess) if guess is not None and challenge.kind == "decades"
           else None)
