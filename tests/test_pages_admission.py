"""pages.admission: the server's queues of trainings and page runs; and pages.warmup's
exactly-once start and its waiting for visitors. The queue itself: tests/test_slots.py."""
import threading
import time

import pytest

from core.slots import SlotQueue


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_warmup_starts_exactly_once_under_concurrency(monkeypatch):
    from pages import warmup
    monkeypatch.setattr(warmup, "_started", threading.Event())
    started = []
    monkeypatch.setattr(warmup, "_warm", lambda: started.append(1))
    # Make the race window wide: a thread switch between the check and the set.
    real_is_set = warmup._started.is_set

    def slow_is_set():
        value = real_is_set()
        time.sleep(0.01)
        return value
    monkeypatch.setattr(warmup._started, "is_set", slow_is_set)
    barrier = threading.Barrier(16)
    answers = []

    def call():
        barrier.wait()
        answers.append(warmup.start_in_background())
    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    wait_until(lambda: started)
    time.sleep(0.05)
    assert sorted(answers) == [False] * 15 + [True]
    assert started == [1]


def test_the_warm_up_waits_for_visitors_and_a_quiet_second(monkeypatch):
    """Between its steps the warm-up waits while a script runs and for QUIET_SECONDS
    after the last one ends (its browser is drawing), then goes on."""
    from pages import warmup
    monkeypatch.setattr(warmup, "QUIET_SECONDS", 0.3)
    monkeypatch.setattr(warmup, "MOST_SECONDS", 30.0)
    done = threading.Event()
    steps = []
    monkeypatch.setattr(warmup, "_steps", lambda: [lambda: steps.append(
        time.monotonic()) for _ in range(2)])
    with warmup.visiting():
        worker = threading.Thread(target=lambda: (warmup._warm(), done.set()))
        worker.start()
        wait_until(lambda: steps)
        time.sleep(0.5)
        assert len(steps) == 1  # the first step runs; the second waits for the visit
        with warmup.visiting():  # a second, overlapping visit
            pass
        time.sleep(0.4)
        assert len(steps) == 1
        ended = time.monotonic()
    assert done.wait(10)
    assert steps[1] - ended >= 0.3 - 0.02  # a quiet QUIET_SECONDS after the visit ended
    worker.join(5)


def test_a_busy_server_still_gets_warm(monkeypatch):
    """Visits that never stop hold each step back at most MOST_SECONDS."""
    from pages import warmup
    monkeypatch.setattr(warmup, "QUIET_SECONDS", 5.0)
    monkeypatch.setattr(warmup, "MOST_SECONDS", 0.2)
    steps = []
    monkeypatch.setattr(warmup, "_steps", lambda: [lambda: steps.append(1)] * 3)
    start = time.monotonic()
    with warmup.visiting():
        warmup._warm()
    assert steps == [1, 1, 1] and 0.4 - 0.02 <= time.monotonic() - start < 3


def test_page_and_training_slots_default_to_the_cores(monkeypatch):
    from pages import admission, server
    monkeypatch.delenv("GRADIENT_LAB_PAGE_SLOTS", raising=False)
    server.tune()  # the process's queue, made once
    assert admission.page_queue().slots == (None if server.tuning_disabled()
                                            else admission.usable_cores() + 1)
    monkeypatch.setenv("GRADIENT_LAB_TRAINING_SLOTS", "5")  # not the page queue's
    assert admission.default_page_slots() == admission.usable_cores() + 1
    monkeypatch.setenv("GRADIENT_LAB_PAGE_SLOTS", "2")
    assert admission.default_page_slots() == 2


@pytest.fixture
def one_page_slot(monkeypatch):
    """The process's page queue replaced by one with a single slot."""
    from pages import admission
    queue = SlotQueue(1)
    monkeypatch.setitem(admission._queues, "page", queue)
    return queue


def test_a_page_run_holds_a_page_slot_and_a_waiting_one_is_told_its_place(
        one_page_slot, app, monkeypatch):
    """Through pages/controls.run_page: a second session's run waits while the only slot
    is taken, is told it is first in line (a Streamlit call: where a stop would land),
    and runs once the slot is free; the note is gone once it runs."""
    from streamlit.delta_generator import DeltaGenerator

    from pages import controls
    at = app("pages/problem.py")
    notes, real_info = [], DeltaGenerator.info
    monkeypatch.setattr(DeltaGenerator, "info",
                        lambda self, body, *a, **k: (notes.append(body),
                                                     real_info(self, body, *a, **k))[1])
    ticket = one_page_slot.enqueue()
    assert one_page_slot.try_take(ticket, 0)

    def free_once_told():
        wait_until(lambda: controls.BUSY.format(ahead=1) in notes, timeout=120)
        one_page_slot.leave(ticket)
    freeing = threading.Thread(target=free_once_told)
    freeing.start()
    at.slider(key="problem:depth").set_value(12).run()
    freeing.join(5)
    assert not at.exception
    assert controls.BUSY.format(ahead=1) in notes
    assert not any(controls.BUSY.format(ahead=1) == info.value for info in at.info)
    assert len(at.get("vega_lite_chart")) >= 3  # it ran, after the slot was freed
    assert one_page_slot.busy == 0 and one_page_slot.waiting == 0


def test_waiting_for_a_training_gives_the_page_slot_back(one_page_slot):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_string(
        "import streamlit as st\n"
        "from pages import admission, training_runs\n"
        "with admission.page_slot():\n"
        "    before = admission.page_queue().busy\n"
        "    with training_runs.training_slot():\n"
        "        during = admission.page_queue().busy\n"
        "    admission.release_page_slot()  # a second time: nothing to give back\n"
        "st.write(f'{before} {during}')\n", default_timeout=60)
    at.run()
    assert not at.exception and at.markdown[0].value == "1 0"
    assert one_page_slot.busy == 0
