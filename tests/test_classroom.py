"""core.classroom against SQLite and, when GRADIENT_LAB_TEST_POSTGRES_URL is set (as
.ci/run sets it), against a real PostgreSQL server."""
import multiprocessing
import os
import threading

import pytest
import sqlalchemy as sa

from core import classroom
from core.classroom import Classroom, ClassroomError, NotInstructor

POSTGRES = os.environ.get("GRADIENT_LAB_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not POSTGRES, reason="GRADIENT_LAB_TEST_POSTGRES_URL not set"))]
DECADES, CHOICE = "identity-explode", "relu-init"  # a decades and a pick challenge


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'classroom.sqlite'}"
    engine = sa.create_engine(POSTGRES)
    classroom.metadata.drop_all(engine)  # a fresh schema for every test
    engine.dispose()
    return POSTGRES


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def room(url, clock):
    db = Classroom(url, clock=clock)
    code, secret = db.create_room()
    return db, code, secret


def test_a_whole_question(room):
    db, code, secret = room
    ana = db.join(code, "Ana", session="a")
    ben = db.join(code.lower(), "  Ben  ", session="b")
    assert db.state(code)["joined"] == 2 and db.state(code)["question"] is None
    number = db.ask(code, secret, CHOICE)
    db.answer(code, ana, number, "glorot_normal")
    db.answer(code, ana, number, "he_normal")  # changed: the last one counts
    db.answer(code, ben, number, "random_normal")
    state = db.state(code, token=ana)
    assert state["question"] == dict(number=1, challenge=CHOICE, revealed=False, answered=2)
    assert state["mine"] == dict(name="Ana", answer="he_normal")
    assert sorted(db.answers(code, number)) == ["he_normal", "random_normal"]
    db.reveal(code, secret)
    with pytest.raises(ClassroomError, match="revealed"):
        db.answer(code, ben, number, "he_normal")
    assert db.state(code)["question"]["revealed"]
    second = db.ask(code, secret, DECADES)
    db.answer(code, ben, second, "8")
    db.answer(code, ana, second, -2.5)
    with pytest.raises(ClassroomError, match="no longer open"):
        db.answer(code, ana, number, "he_normal")
    db.close(code, secret)
    summary = db.summary(code, secret)
    assert summary["question"].tolist() == [1, 2]
    assert summary["answers"].tolist() == [2, 2]
    assert summary["right"].tolist() == [1, 1]  # he_normal; 8 is within a decade of 8.6
    assert summary["measured"].tolist()[0] == "he_normal"
    assert "question,challenge,text" in summary.to_csv(index=False)
    with pytest.raises(ClassroomError, match="closed"):
        db.join(code, "Late")


def test_only_the_instructor_acts(room):
    db, code, secret = room
    token = db.join(code, "Eve")
    for action in (lambda s: db.ask(code, s, CHOICE), lambda s: db.reveal(code, s),
                   lambda s: db.close(code, s), lambda s: db.summary(code, s)):
        for guess in (token, "", "x" * 32, secret[:-1]):
            with pytest.raises(NotInstructor):
                action(guess)
    assert db.is_instructor(code, secret) and not db.is_instructor(code, token)
    assert db.state(code)["question"] is None and not db.state(code)["closed"]
    db.ask(code, secret, CHOICE)
    with pytest.raises(ClassroomError, match="not in this room"):
        db.answer(code, secret, 1, "he_normal")  # the secret is no student token
    # the secret is stored hashed, never as it is
    with db.engine.connect() as connection:
        stored = connection.execute(sa.select(classroom.rooms)).one()
    assert secret not in stored


def test_every_input_is_validated(room, url, clock):
    db, code, secret = room
    for bad in ("", "ABC", "ABCDEFG", "<b>X</b>", "AB0O1"):
        with pytest.raises(ClassroomError, match="5 letters"):
            db.join(bad, session=bad)  # (every try counts against the rate limit)
    with pytest.raises(ClassroomError, match="There is no room"):
        db.join("ZZZZZ" if code != "ZZZZZ" else "YYYYY")
    with pytest.raises(ClassroomError, match="at most 30"):
        db.join(code, "n" * 31, session="long")
    with pytest.raises(ClassroomError, match="control"):
        db.join(code, "a\x00b", session="control")
    name = "<script>alert(1)</script>"
    token = db.join(code, name, session="x")
    assert db.students(code) == [name]  # kept as text; the page shows it as text
    with pytest.raises(ValueError, match="unknown challenge"):
        db.ask(code, secret, "<img src=x>")
    number = db.ask(code, secret, CHOICE)
    with pytest.raises(ValueError, match="one of"):
        db.answer(code, token, number, "<b>he</b>")
    db.ask(code, secret, DECADES)
    with pytest.raises(ValueError, match="decades"):
        db.answer(code, token, 2, "1e400")
    with pytest.raises(ClassroomError, match="no question"):
        other, other_secret = db.create_room()
        db.reveal(other, other_secret)


def test_rooms_expire(room, clock):
    db, code, secret = room
    token = db.join(code)
    db.ask(code, secret, CHOICE)
    clock.now += classroom.EXPIRY_SECONDS + 1
    for action in (lambda: db.join(code), lambda: db.answer(code, token, 1, "he_normal"),
                   lambda: db.reveal(code, secret)):
        with pytest.raises(ClassroomError, match="expired"):
            action()
    assert db.state(code)["expired"]
    clock.now += 86400  # a day later, a new room clears it away
    db.create_room()
    with pytest.raises(ClassroomError, match="no room"):
        db.state(code)


def test_rate_limits(room):
    db, code, _ = room
    count, _ = classroom.RATE_LIMITS["join"]
    for _ in range(count):
        db.join(code, session="same")
    with pytest.raises(ClassroomError, match="Too many joins"):
        db.join(code, session="same")
    db.join(code, session="another")  # per session
    limit = classroom.RateLimit(2, 10.0, clock=lambda: now[0])
    now = [0.0]
    limit.check("s", "answer"), limit.check("s", "answer")
    with pytest.raises(ClassroomError, match="try again in 10 s"):
        limit.check("s", "answer")
    now[0] = 10.5
    limit.check("s", "answer")


def test_a_restart_loses_nothing(room, url, clock):
    db, code, secret = room
    token = db.join(code, "Ana")
    number = db.ask(code, secret, CHOICE)
    db.answer(code, token, number, "he_normal")
    db.engine.dispose()
    again = Classroom(url, clock=clock)  # a new process would do the same
    assert again.state(code, token)["mine"] == dict(name="Ana", answer="he_normal")
    assert again.is_instructor(code, secret)
    again.reveal(code, secret)


def test_sqlite_is_a_wal_file(tmp_path, monkeypatch):
    monkeypatch.delenv(classroom.URL_VARIABLE, raising=False)
    monkeypatch.setenv(classroom.PATH_VARIABLE, str(tmp_path / "sub" / "rooms.sqlite"))
    db = Classroom()
    assert db.url == f"sqlite:///{tmp_path / 'sub' / 'rooms.sqlite'}"
    db.create_room()
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    monkeypatch.setenv(classroom.URL_VARIABLE, "sqlite:///" + str(tmp_path / "u.sqlite"))
    assert classroom.database_url() == "sqlite:///" + str(tmp_path / "u.sqlite")


def test_reads_do_not_wait_for_a_writer(room):
    """Polling (state, answers, is_instructor) takes no write lock: while a writer holds
    SQLite's (BEGIN IMMEDIATE) or a row lock, the tally is still read at once."""
    db, code, secret = room
    number = db.ask(code, secret, "relu-init")
    token = db.join(code, "ana", session="s-ana")
    db.answer(code, token, number, "he_normal", session="s-ana")
    read, done = {}, threading.Event()

    def poll():
        read["state"] = db.state(code, token)
        read["answers"] = db.answers(code, number)
        read["instructor"] = db.is_instructor(code, secret)
        done.set()
    with db.engine.begin() as writer:  # a writer in the middle of its transaction
        writer.execute(classroom.students.update().where(
            classroom.students.c.room == code).values(name="ana"))
        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        answered = done.wait(5)  # a read that waited for the lock would take 30 s
    thread.join(60)
    assert answered, "a read waited for the writer's lock"
    assert read["answers"] == ["he_normal"] and read["instructor"] is True
    assert read["state"]["question"]["answered"] == 1


STUDENTS = 30


def test_concurrent_answers_are_counted_once(room):
    """30 students in threads join, answer and change their answer at once."""
    db, code, secret = room
    number = db.ask(code, secret, DECADES)
    barrier, errors = threading.Barrier(STUDENTS), []

    def student(index):
        try:
            token = db.join(code, f"s{index}", session=f"t{index}")
            barrier.wait()
            for guess in (0, index % 10, index % 7):  # the last one counts
                db.answer(code, token, number, guess, session=f"t{index}")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
    threads = [threading.Thread(target=student, args=(i,)) for i in range(STUDENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert db.state(code)["joined"] == STUDENTS
    assert sorted(float(a) for a in db.answers(code, number)) == \
        sorted(float(i % 7) for i in range(STUDENTS))


def _process_student(url, code, number, index):
    db = Classroom(url)
    token = db.join(code, f"p{index}", session=f"p{index}")
    for guess in ("glorot_normal", ("he_normal", "random_normal")[index % 2]):
        db.answer(code, token, number, guess, session=f"p{index}")


def test_concurrent_answers_from_processes(url):
    """The same from separate processes (as several server processes would)."""
    db = Classroom(url)  # the real clock, as in the other processes
    code, secret = db.create_room()
    number = db.ask(code, secret, CHOICE)
    db.engine.dispose()
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        pool.starmap(_process_student, [(url, code, number, i) for i in range(STUDENTS)])
    given = db.answers(code, number)
    assert len(given) == STUDENTS
    assert given.count("he_normal") == STUDENTS // 2
    assert given.count("random_normal") == STUDENTS // 2
