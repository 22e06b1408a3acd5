"""core.slots.SlotQueue: a fair FIFO slot queue, tested with real threads."""
import threading
import time

import pytest

from core.slots import SlotQueue


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_one_slot_serves_waiters_in_arrival_order_and_tells_them_how_many_are_ahead():
    queue = SlotQueue(1)
    order, ahead, release = [], {}, threading.Event()

    def worker(name):
        def on_wait(n):
            ahead.setdefault(name, []).append(n)
        with queue.slot(on_wait=on_wait, poll=0.01):
            order.append(name)
            if name == 0:
                release.wait(10)
            else:
                time.sleep(0.05)  # long enough for those behind to poll

    threads = []
    for name in range(5):
        threads.append(threading.Thread(target=worker, args=(name,)))
        threads[-1].start()
        wait_until(lambda: queue.busy + queue.waiting == name + 1)
    wait_until(lambda: all(len(ahead.get(n, [])) >= 2 for n in range(1, 5)))
    assert queue.busy == 1 and queue.waiting == 4
    assert [ahead[n][0] for n in range(1, 5)] == [0, 1, 2, 3]
    release.set()
    for thread in threads:
        thread.join(10)
    assert order == [0, 1, 2, 3, 4]
    assert min(ahead[4]) < 3  # the note counted down as the queue moved
    assert queue.busy == 0 and queue.waiting == 0


def test_two_slots_run_two_at_once_never_three():
    queue = SlotQueue(2)
    running, peak, lock = [0], [0], threading.Lock()

    def worker():
        with queue.slot(poll=0.01):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.02)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert peak[0] == 2 and queue.busy == 0


class Stopped(Exception):
    """Stands in for Streamlit's StopException raised while a session waits."""


def test_a_waiter_that_is_stopped_leaves_the_queue_and_the_next_moves_up():
    queue = SlotQueue(1)
    holder_ticket = queue.enqueue()
    assert queue.try_take(holder_ticket, 0)
    stop = threading.Event()
    result = {}

    def cancelled():
        def on_wait(n):
            if stop.is_set():
                raise Stopped
        try:
            with queue.slot(on_wait=on_wait, poll=0.01):
                result["ran"] = True
        except Stopped:
            result["stopped"] = True

    first = threading.Thread(target=cancelled)
    first.start()
    wait_until(lambda: queue.waiting == 1)
    behind = queue.enqueue()
    assert queue.position(behind) == 1
    stop.set()
    first.join(10)
    assert result == {"stopped": True}
    assert queue.position(behind) == 0 and queue.waiting == 1
    queue.leave(holder_ticket)
    assert queue.try_take(behind, 1)
    queue.leave(behind)
    assert queue.busy == 0 and queue.waiting == 0


def test_an_exception_in_the_work_frees_the_slot():
    queue = SlotQueue(1)
    with pytest.raises(ZeroDivisionError):
        with queue.slot():
            assert queue.busy == 1
            1 / 0
    assert queue.busy == 0
    with queue.slot():  # taken at once
        assert queue.busy == 1


def test_a_slot_taken_quickly_never_calls_on_wait_and_no_limit_never_waits():
    calls = []
    with SlotQueue(1).slot(on_wait=calls.append):
        pass
    unlimited = SlotQueue(None)
    with unlimited.slot(on_wait=calls.append), unlimited.slot(on_wait=calls.append):
        assert unlimited.busy == 2
    assert calls == []
    with pytest.raises(ValueError):
        SlotQueue(0)
