"""The class poll's database under a class: 30 students answering while everyone polls.

30 student threads join one room; each then answers (and changes its answer) three
times, 2 s apart, reading the room's state every second in between, and an instructor
thread reads the tally every 2 s, as the pages' fragments do. Answer-to-tally latency:
from an answer's `updated` stamp (taken before its transaction waits for the database)
to the end of the first instructor read that shows it. Printed:
p50, p95 and max of that latency (goal: p95 <= 3 s, of which up to 2 s is the refresh
period itself), the answer calls' own p95, answers lost or double-counted, and the
process's resident memory. Baseline in the same run: the same 30 students answering
one at a time with no polling (no contention): the database's own cost.

Run: PYTHONPATH=. .venv/bin/python benchmarks/bench_poll.py [--url SQLALCHEMY_URL]
(default: a fresh SQLite file in a temporary folder).
"""
from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import threading
import time

import sqlalchemy as sa

from core.classroom import Classroom, answers

STUDENTS, ROUNDS, REFRESH = 30, 3, 2.0


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def baseline(url: str) -> float:
    db = Classroom(url)
    code, secret = db.create_room()
    number = db.ask(code, secret, "relu-init")
    tokens = [db.join(code, session=f"b{i}") for i in range(STUDENTS)]
    start = time.perf_counter()
    for index, token in enumerate(tokens):
        db.answer(code, token, number, "he_normal", session=f"b{index}")
    return (time.perf_counter() - start) / STUDENTS


def run(url: str) -> dict:
    db = Classroom(url)
    code, secret = db.create_room()
    number = db.ask(code, secret, "relu-init")
    latencies, calls, done = [], [], threading.Event()
    choices = ("glorot_normal", "he_normal", "random_normal")

    def student(index):
        token = db.join(code, f"s{index}", session=f"s{index}")
        for round_ in range(ROUNDS):
            began = time.perf_counter()
            db.answer(code, token, number, choices[(index + round_) % 3],
                      session=f"s{index}")
            calls.append(time.perf_counter() - began)
            for _ in range(2):  # the student's own page refreshes until the next answer
                time.sleep(REFRESH / 2)
                db.state(code, token)

    def instructor():
        """The projected tally: a read every REFRESH s; an answer's latency is from its
        `updated` stamp (taken as it is written) to the end of the first read showing it."""
        last = {}
        query = sa.select(answers.c.student, answers.c.updated).where(
            (answers.c.room == code) & (answers.c.number == number))
        while not done.is_set():
            began = time.time()
            with db.engine.connect() as connection:
                rows = connection.execute(query).all()
            db.state(code)
            finished = time.time()
            for who, updated in rows:
                if last.get(who) != updated:
                    last[who] = updated
                    latencies.append(finished - updated)
            done.wait(max(0.0, REFRESH - (time.time() - began)))

    watcher = threading.Thread(target=instructor)
    watcher.start()
    threads = [threading.Thread(target=student, args=(i,)) for i in range(STUDENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(REFRESH + 0.5)
    done.set()
    watcher.join()
    given = db.answers(code, number)
    assert len(given) == STUDENTS, "an answer was lost or counted twice"
    return {"latencies": latencies, "calls": calls, "answers": len(given),
            "expected": STUDENTS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="SQLAlchemy URL (default: a new SQLite file)")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench_poll_")
    url = args.url or f"sqlite:///{folder}/poll.sqlite"
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    alone = baseline(url)
    result = run(url)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    latency = result["latencies"]
    print(f"database: {url.split(':')[0]}; {STUDENTS} students x {ROUNDS} answers, "
          f"polling every {REFRESH:g} s")
    print(f"answer-to-tally latency: p50 {statistics.median(latency):.2f} s, "
          f"p95 {percentile(latency, 0.95):.2f} s, max {max(latency):.2f} s "
          f"({len(latency)} answers; goal p95 <= 3 s)")
    print(f"answer call: p95 {percentile(result['calls'], 0.95) * 1000:.1f} ms under load; "
          f"baseline, one student at a time, no polling: {alone * 1000:.1f} ms")
    print(f"answers counted: {result['answers']} of {result['expected']} students "
          f"(one each, the last counting)")
    print(f"peak resident memory: {rss_after:.0f} MB (before the class: {rss_before:.0f} MB)")


if __name__ == "__main__":
    main()
