"""A live class poll: rooms, students, questions and answers in a database (SQLAlchemy).

SQLite by default (a file in WAL mode, created on first use, nothing to set up); any
SQLAlchemy URL instead (PostgreSQL: ``postgresql+psycopg://user:password@host/db``)
from the argument or the GRADIENT_LAB_DATABASE_URL environment variable. Every
state change is one short transaction, so a server restart loses nothing, and several
server processes can share one PostgreSQL database.

The instructor's secret is stored hashed and checked on every instructor action; a
student holds only a token that lets them answer. Answers are upserts on
(question, student): one per student per question, the last one counting, until the
reveal. Questions are core.challenges challenges, graded against the live measurement.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import threading
import time
import unicodedata
from collections import defaultdict, deque
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from . import challenges

URL_VARIABLE = "GRADIENT_LAB_DATABASE_URL"
PATH_VARIABLE = "GRADIENT_LAB_DATABASE_PATH"  # the SQLite file, when no URL is given
DEFAULT_PATH = Path.home() / ".gradient_lab" / "classroom.sqlite"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a projector
CODE_LENGTH = 5
EXPIRY_SECONDS = 4 * 3600  # a room lasts four hours from its creation
NAME_LENGTH = 30
# per session: at most `count` actions of a kind in `seconds`
RATE_LIMITS = {"join": (5, 60.0), "answer": (30, 60.0)}

metadata = sa.MetaData()
rooms = sa.Table(
    "classroom_rooms", metadata,
    sa.Column("code", sa.String(8), primary_key=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("expires", sa.Float, nullable=False),
    sa.Column("closed", sa.Boolean, nullable=False, default=False),
    sa.Column("question", sa.Integer, nullable=False, default=0))  # current number
students = sa.Table(
    "classroom_students", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("room", sa.ForeignKey("classroom_rooms.code", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(NAME_LENGTH)),
    sa.Column("joined", sa.Float, nullable=False))
questions = sa.Table(
    "classroom_questions", metadata,
    sa.Column("room", sa.ForeignKey("classroom_rooms.code", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("challenge", sa.String(40), nullable=False),
    sa.Column("opened", sa.Float, nullable=False),
    sa.Column("revealed", sa.Float))  # when; None until the reveal
answers = sa.Table(
    "classroom_answers", metadata,
    sa.Column("room", sa.String(8), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("student", sa.ForeignKey("classroom_students.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("answer", sa.String(80), nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
    sa.ForeignKeyConstraint(["room", "number"], ["classroom_questions.room",
                                                 "classroom_questions.number"],
                            ondelete="CASCADE"))


class ClassroomError(ValueError):
    """A request that cannot be done, with a message to show as it is."""


class NotInstructor(ClassroomError):
    """An instructor action without the room's secret."""


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def database_url(url: str | None = None) -> str:
    """`url`, else $GRADIENT_LAB_DATABASE_URL, else SQLite at $GRADIENT_LAB_DATABASE_PATH
    (default ~/.gradient_lab/classroom.sqlite)."""
    url = url or os.environ.get(URL_VARIABLE)
    if url:
        return url
    path = Path(os.environ.get(PATH_VARIABLE) or DEFAULT_PATH)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


READING = {"gradient_lab_read_only": True}  # execution options of a read-only transaction


def make_engine(url: str) -> sa.Engine:
    """An engine; for SQLite: WAL, a busy timeout, foreign keys, BEGIN IMMEDIATE for
    writers (so two of them queue instead of failing on a lock upgrade) and a deferred
    BEGIN for reads (READING): in WAL mode readers take no lock, so thirty students
    polling never queue behind each other or behind the answers."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def on_connect(connection, _record):
        connection.isolation_level = None  # SQLAlchemy, not pysqlite, begins
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=30000")

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection):
        reading = connection.get_execution_options().get("gradient_lab_read_only")
        connection.exec_driver_sql("BEGIN DEFERRED" if reading else "BEGIN IMMEDIATE")
    return engine


class RateLimit:
    """At most `count` events per key in any `seconds`; thread-safe, in memory."""

    def __init__(self, count: int, seconds: float, clock=time.monotonic):
        self.count, self.seconds, self.clock = count, seconds, clock
        self.events: dict = defaultdict(deque)
        self.lock = threading.Lock()

    def check(self, key, what: str) -> None:
        now = self.clock()
        with self.lock:
            recent = self.events[key]
            while recent and recent[0] <= now - self.seconds:
                recent.popleft()
            if len(recent) >= self.count:
                wait = recent[0] + self.seconds - now
                raise ClassroomError(f"Too many {what}s from this browser: try again in "
                                     f"{max(1, round(wait))} s.")
            recent.append(now)


def clean_code(code) -> str:
    """A room code as typed (any case, spaces) -> its canonical form; ClassroomError."""
    text = "".join(str(code or "").split()).upper()
    if len(text) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in text):
        raise ClassroomError(f"A room code is {CODE_LENGTH} letters and digits, "
                             f"like K7QX2.")
    return text


def clean_name(name) -> str | None:
    """An optional display name: trimmed, no control characters, at most NAME_LENGTH."""
    text = " ".join(str(name or "").split())
    if not text:
        return None
    if any(unicodedata.category(char).startswith("C") for char in text):
        raise ClassroomError("A name cannot contain control characters.")
    if len(text) > NAME_LENGTH:
        raise ClassroomError(f"A name is at most {NAME_LENGTH} characters.")
    return text


class Classroom:
    """The rooms of one database. Methods raise ClassroomError with a message to show."""

    def __init__(self, url: str | None = None, clock=time.time):
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        self.clock = clock
        metadata.create_all(self.engine)  # first use creates the schema
        self.limits = {kind: RateLimit(*limit) for kind, limit in RATE_LIMITS.items()}

    # --- rooms -------------------------------------------------------------------------
    def create_room(self) -> tuple[str, str]:
        """A new room: (code, instructor secret). Also drops rooms expired a day ago."""
        now = self.clock()
        secret = secrets.token_urlsafe(24)
        with self.engine.begin() as db:
            db.execute(sa.delete(rooms).where(rooms.c.expires < now - 86400))
            for _ in range(20):
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                if db.scalar(sa.select(rooms.c.code).where(rooms.c.code == code)) is None:
                    db.execute(rooms.insert().values(
                        code=code, secret_hash=_hash(secret), created=now,
                        expires=now + EXPIRY_SECONDS, closed=False, question=0))
                    return code, secret
        raise ClassroomError("Could not find a free room code: try again.")

    def _room(self, db, code, secret: str | None = None, open_only: bool = True,
              lock: str | None = None):
        """The room's row, checked; `lock` ("share", "update"): a row lock on PostgreSQL
        so that an answer and a reveal of the same room take turns (SQLite's BEGIN
        IMMEDIATE already serializes writers)."""
        code = clean_code(code)
        query = sa.select(rooms).where(rooms.c.code == code)
        if lock:
            query = query.with_for_update(read=lock == "share")
        room = db.execute(query).one_or_none()
        if room is None:
            raise ClassroomError(f"There is no room {code}: check the code.")
        if secret is not None and not hmac.compare_digest(room.secret_hash, _hash(secret)):
            raise NotInstructor("Only the instructor who started this room can do that.")
        if open_only and room.closed:
            raise ClassroomError(f"Room {code} is closed.")
        if open_only and self.clock() > room.expires:
            raise ClassroomError(f"Room {code} has expired (rooms last "
                                 f"{EXPIRY_SECONDS // 3600} hours).")
        return room

    @contextlib.contextmanager
    def _reading(self):
        """A read-only transaction (SQLite: deferred, no lock in WAL mode)."""
        with self.engine.connect() as db:
            db.execution_options(**READING)
            with db.begin():
                yield db

    def is_instructor(self, code, secret) -> bool:
        try:
            with self._reading() as db:
                self._room(db, code, secret or "", open_only=False)
            return True
        except ClassroomError:
            return False

    def ask(self, code, secret: str, challenge_key: str) -> int:
        """Open the next question (a challenge key); the one before is revealed."""
        challenge = challenges.get(challenge_key)
        now = self.clock()
        with self.engine.begin() as db:
            room = self._room(db, code, secret, lock="update")
            db.execute(questions.update().where(
                (questions.c.room == room.code) & questions.c.revealed.is_(None))
                .values(revealed=now))
            number = room.question + 1
            db.execute(questions.insert().values(room=room.code, number=number,
                                                 challenge=challenge.key, opened=now))
            db.execute(rooms.update().where(rooms.c.code == room.code)
                       .values(question=number))
        return number

    def reveal(self, code, secret: str) -> None:
        with self.engine.begin() as db:
            room = self._room(db, code, secret, lock="update")
            if not room.question:
                raise ClassroomError("There is no question to reveal yet.")
            db.execute(questions.update().where(
                (questions.c.room == room.code) & (questions.c.number == room.question)
                & questions.c.revealed.is_(None)).values(revealed=self.clock()))

    def close(self, code, secret: str) -> None:
        now = self.clock()
        with self.engine.begin() as db:
            room = self._room(db, code, secret, open_only=False, lock="update")
            db.execute(questions.update().where(
                (questions.c.room == room.code) & questions.c.revealed.is_(None))
                .values(revealed=now))
            db.execute(rooms.update().where(rooms.c.code == room.code).values(closed=True))

    # --- students ----------------------------------------------------------------------
    def join(self, code, name=None, session="") -> str:
        """A new student in the room: their token (keep it in the session)."""
        self.limits["join"].check(session, "join")
        name = clean_name(name)
        token = secrets.token_urlsafe(24)
        with self.engine.begin() as db:
            room = self._room(db, code)
            db.execute(students.insert().values(room=room.code, token_hash=_hash(token),
                                                name=name, joined=self.clock()))
        return token

    def _student(self, db, room, token):
        student = db.execute(sa.select(students).where(
            (students.c.token_hash == _hash(str(token or "")))
            & (students.c.room == room.code))).one_or_none()
        if student is None:
            raise ClassroomError("You are not in this room: join it again.")
        return student

    def answer(self, code, token: str, number: int, guess, session="") -> None:
        """The student's answer to question `number` (the current one), replacing any
        earlier answer; refused after the reveal."""
        self.limits["answer"].check(session, "answer")
        with self.engine.begin() as db:
            room = self._room(db, code, lock="share")
            student = self._student(db, room, token)
            question = db.execute(sa.select(questions).where(
                (questions.c.room == room.code) & (questions.c.number == number))
            ).one_or_none()
            if question is None or number != room.question:
                raise ClassroomError("That question is no longer open.")
            if question.revealed is not None:
                raise ClassroomError("The answer has been revealed: answers are closed.")
            value = challenges.check_answer(challenges.get(question.challenge), guess)
            row = dict(room=room.code, number=number, student=student.id,
                       answer=str(value), updated=self.clock())
            insert = (postgresql if self.engine.dialect.name == "postgresql"
                      else sqlite).insert(answers).values(**row)
            db.execute(insert.on_conflict_do_update(
                index_elements=["room", "number", "student"],
                set_=dict(answer=insert.excluded.answer, updated=insert.excluded.updated)))

    # --- reading -----------------------------------------------------------------------
    def state(self, code, token: str | None = None) -> dict:
        """The room as everyone may see it: code, closed, expires, joined, question
        (number, challenge key, revealed, answered) and, with a token, `mine`: the
        student's name and current answer."""
        with self._reading() as db:
            room = self._room(db, code, open_only=False)
            joined = db.scalar(sa.select(sa.func.count()).where(students.c.room == room.code))
            state = dict(code=room.code, closed=bool(room.closed),
                         expired=self.clock() > room.expires, expires=room.expires,
                         joined=int(joined), question=None)
            question = db.execute(sa.select(questions).where(
                (questions.c.room == room.code) & (questions.c.number == room.question))
            ).one_or_none()
            if question is not None:
                answered = db.scalar(sa.select(sa.func.count()).where(
                    (answers.c.room == room.code) & (answers.c.number == question.number)))
                state["question"] = dict(number=question.number,
                                         challenge=question.challenge,
                                         revealed=question.revealed is not None,
                                         answered=int(answered))
            if token is not None:
                student = self._student(db, room, token)
                mine = None if question is None else db.scalar(sa.select(answers.c.answer)
                                                               .where(
                    (answers.c.room == room.code) & (answers.c.number == question.number)
                    & (answers.c.student == student.id)))
                state["mine"] = dict(name=student.name, answer=mine)
        return state

    def answers(self, code, number: int) -> list[str]:
        """Every student's current answer to question `number` (one each)."""
        with self._reading() as db:
            room = self._room(db, code, open_only=False)
            return list(db.scalars(sa.select(answers.c.answer).where(
                (answers.c.room == room.code) & (answers.c.number == number))
                .order_by(answers.c.student)))

    def students(self, code) -> list[str | None]:
        with self._reading() as db:
            room = self._room(db, code, open_only=False)
            return list(db.scalars(sa.select(students.c.name).where(
                students.c.room == room.code).order_by(students.c.id)))

    def summary(self, code, secret: str) -> pd.DataFrame:
        """One row per question: challenge, question, measured answer, answers, right
        answers and their share (graded against core.challenges.measure)."""
        with self.engine.begin() as db:
            room = self._room(db, code, secret, open_only=False)
            asked = db.execute(sa.select(questions).where(questions.c.room == room.code)
                               .order_by(questions.c.number)).all()
        rows = []
        for question in asked:
            challenge = challenges.get(question.challenge)
            answer = challenges.measure(challenge.key).answer
            given = self.answers(room.code, question.number)
            right = sum(challenges.grade(challenge, guess, answer) for guess in given)
            rows.append(dict(question=question.number, challenge=challenge.key,
                             text=challenge.question,
                             measured=challenges.answer_text(challenge, answer),
                             answers=len(given), right=right,
                             right_share=right / len(given) if given else float("nan")))
        return pd.DataFrame(rows, columns=["question", "challenge", "text", "measured",
                                           "answers", "right", "right_share"])
