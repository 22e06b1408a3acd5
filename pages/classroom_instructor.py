"""The class poll's instructor: the room card, the next question, the projected live
tally with its reveal, and the summary at the end. Only the instructor's session holds
the room's secret (st.session_state, never the URL)."""
from __future__ import annotations

import streamlit as st

from core import challenges
from core.classroom import ClassroomError
from pages.classroom_ui import (INSTRUCTOR, REFRESH, answers_chart, join_link, label, qr_png,
                                reveal, show_error)


def _ask(db, code, secret) -> None:
    key = st.session_state.get("classroom_pick")
    try:
        db.ask(code, secret, key)
        challenges.prefetch(key)  # measured in the background while the class answers
    except (ClassroomError, ValueError) as error:
        st.session_state["classroom_problem"] = str(error)


def _reveal(db, code, secret) -> None:
    try:
        db.reveal(code, secret)
    except ClassroomError as error:
        st.session_state["classroom_problem"] = str(error)


def close(db, code, secret) -> None:
    db.close(code, secret)


def start_class(db) -> None:
    st.session_state[INSTRUCTOR] = db.create_room()
    st.session_state.pop("classroom_problem", None)


def room_card(code: str, big: bool) -> None:
    """The code, the join link and a QR code: big enough to project (`big`, before the
    first question), then smaller, beside the questions, for latecomers."""
    link = join_link(code)
    st.markdown(f"### Join at this page with room code\n# `{code}`")
    st.image(qr_png(link), width=360 if big else 200, caption="Scan to join")
    st.code(link, language=None, wrap_lines=True)


def pick_question(db, code, secret) -> None:
    bank = challenges.all_challenges()
    st.selectbox("Next question", [c.key for c in bank], key="classroom_pick",
                 format_func=lambda key: label(challenges.get(key)),
                 help="Every answer is measured live by the core when you reveal it.")
    st.button("Ask this question", key="classroom_ask", type="primary", icon="❓",
              on_click=_ask, args=(db, code, secret))
    problem = st.session_state.pop("classroom_problem", None)
    if problem:
        st.error(problem, icon="⚠️")


@st.fragment(run_every=REFRESH)
def instructor_live(db, code, secret) -> None:
    """The projected view: counts, the live histogram, reveal; every REFRESH s."""
    try:
        state = db.state(code)
        question = state["question"]
        guesses = db.answers(code, question["number"]) if question else []
    except Exception as error:  # noqa: BLE001 - shown, never a traceback
        show_error(error)
        return
    counts = st.columns(2)
    counts[0].metric("Joined", state["joined"])
    counts[1].metric("Answered", f"{question['answered'] if question else 0} / "
                     f"{state['joined']}")
    if question is None:
        st.info("Pick a question and ask it: students see it at once.", icon="👉")
        return
    challenge = challenges.get(question["challenge"])
    st.subheader(f"Question {question['number']}: {challenge.question}")
    if not question["revealed"]:
        answers_chart(challenge, guesses, key="classroom_live_tally")
        st.button("Reveal the answer", key="classroom_reveal", type="primary", icon="📏",
                  on_click=_reveal, args=(db, code, secret), disabled=state["closed"])
    else:
        reveal(challenge, guesses)


def summary(db, code, secret) -> None:
    table = db.summary(code, secret)
    st.subheader("Summary of the class")
    st.dataframe(table.rename(columns={"right_share": "share right"}), hide_index=True,
                 column_config={"share right": st.column_config.NumberColumn(
                     format="percent")})
    st.download_button("Download the summary (CSV)", table.to_csv(index=False),
                       file_name=f"gradient_lab_class_{code}.csv", mime="text/csv",
                       key="classroom_summary_csv", on_click="ignore")
