"""The class poll's shared Streamlit pieces: the database, the room's link and QR code,
the tally and the reveal. The instructor's views are in pages/classroom_instructor.py,
a student's in pages/classroom_student.py.

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
