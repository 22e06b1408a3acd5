"""The class poll's Streamlit pieces: the database, the QR code, the live views.

Every database call goes through core.classroom; its ClassroomError messages are shown
as they are (they quote nothing a user typed but a cleaned room code). Only the
instructor's session holds the room's secret (st.session_state, never the URL).
"""
from __future__ import annotations

import io
import os
import uuid
from urllib.parse import urlencode, urlsplit

import streamlit as st

from core import challenges, classroom
from core.charts import challenges as charts
from core.classroom import ClassroomError

INSTRUCTOR, STUDENT = "classroom_instructor", "classroom_student"  # session-state keys
REFRESH = 2.0  # seconds between two looks at the tally
PAGE_NAMES = {"problem": "The problem", "why": "Why it happens",
              "initialization": "Initialization", "phase": "Phase diagram",
              "activations": "Activations",
              "remedies": "Remedies", "through_time": "Through time"}


def _secret_url() -> str | None:
    """GRADIENT_LAB_DATABASE_URL from Streamlit secrets, if there are any."""
    try:
        return st.secrets.get(classroom.URL_VARIABLE)
    except Exception:  # no secrets file: that is the default, not an error
        return None


@st.cache_resource(max_entries=4, show_spinner=False)
def _open(url: str) -> classroom.Classroom:
    return classroom.Classroom(url)


def database() -> classroom.Classroom:
    """The process's Classroom (one engine per database URL)."""
    return _open(classroom.database_url(_secret_url() or os.environ.get(
        classroom.URL_VARIABLE)))


def session_id() -> str:
    """This browser session's id, for the rate limits."""
    return st.session_state.setdefault("classroom_session", uuid.uuid4().hex)


def parse_code(text: str) -> str:
    """A room code from the URL (?room=K7QX2); ValueError (a ClassroomError) if it is
    malformed or empty."""
    return classroom.clean_code(text)


def join_link(code: str) -> str:
    """This page's address with ?room=CODE."""
    parts = urlsplit(st.context.url or "http://localhost:8501/classroom")
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode({'room': code})}"


def qr_png(link: str) -> bytes:
    """The join link as a QR code, 12 px per module: about 400 px, readable across a
    room."""
    import segno
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=12, border=2)
    return buffer.getvalue()


def label(challenge) -> str:
    return f"{PAGE_NAMES.get(challenge.page, challenge.page)}: {challenge.question}"


def show_error(error: Exception) -> None:
    st.error(str(error) if isinstance(error, ClassroomError) else
             "The class database did not answer; try again in a moment.", icon="⚠️")


def answers_chart(challenge, guesses, answer=None, guess=None, key=None) -> None:
    decades = challenge.kind == "decades"
    figure = charts.answers_chart(
        challenges.tally(challenge, guesses, answer), "The class's answers", decades,
        measured=answer if decades else None, guess=guess if decades else None)
    st.altair_chart(figure, width="stretch", key=key)


def reveal(challenge, guesses, guess=None) -> None:
    """The measured answer and chart beside the class's answers, and why."""
    with st.spinner("Measuring with TensorFlow..."):
        measurement = challenges.measure(challenge.key)
    st.success(f"**Measured: {challenges.answer_text(challenge, measurement.answer)}**. "
               f"{challenge.why}", icon="📏")
    left, right = st.columns(2)
    with left:
        answers_chart(challenge, guesses, measurement.answer, guess)
    right.altair_chart(charts.measured_chart(challenge, measurement), width="stretch")
    return measurement


# --- the instructor ----------------------------------------------------------------------
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


# --- a student ---------------------------------------------------------------------------
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
