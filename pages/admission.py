"""Process-wide limits on work: fair first-in first-out queues of slots.

Trainings take seconds of every core; many at once on a small server make each one
slower and all of them late. `SlotQueue.slot()` lets `slots` of them run together and
queues the rest in arrival order. A waiter learns its place (`position`, the number
ahead of it) through a callback it is given every `poll` seconds; if that callback
raises (a stopped session), or the work in the block raises, the ticket or the slot is
given back.

Two queues: `training_queue()` (about one training per core) and `page_queue()`, which
every script run of a page passes (pages/controls.run_page; about one more than the
cores). Thirty pages run at once all hold Python's GIL in turn and each finishes late;
run a few at a time, they finish in arrival order and sooner on the whole: in a class
of 30 (benchmarks/bench_classroom.py), p50 1.1-1.8 s and p95 2.7-3.2 s to the charts,
against 3.2-3.4 s and 4.1-4.8 s with every page run at once. A page run gives its
slot back for good when it starts waiting for a training (`release_page_slot`).
"""
from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections import deque
from typing import Callable, Iterator


class SlotQueue:
    """`slots` holders at a time (None: no limit), the rest wait first in, first out."""

    def __init__(self, slots: int | None):
        if slots is not None and slots < 1:
            raise ValueError("slots must be at least 1, or None for no limit")
        self.slots = slots
        self._cond = threading.Condition()
        self._waiting: deque[int] = deque()
        self._holders: set[int] = set()
        self._tickets = itertools.count(1)

    @property
    def busy(self) -> int:
        with self._cond:
            return len(self._holders)

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)

    def position(self, ticket: int) -> int:
        """How many waiters are ahead of `ticket`; 0 once it holds a slot or is first."""
        with self._cond:
            if ticket in self._holders:
                return 0
            try:
                return self._waiting.index(ticket)
            except ValueError:
                raise KeyError(f"ticket {ticket} is neither waiting nor holding") from None

    def _free(self) -> bool:
        return self.slots is None or len(self._holders) < self.slots

    def enqueue(self) -> int:
        with self._cond:
            ticket = next(self._tickets)
            self._waiting.append(ticket)
            return ticket

    def try_take(self, ticket: int, timeout: float | None = None) -> bool:
        """Wait up to `timeout` s for `ticket` to be first with a slot free; take it."""
        with self._cond:
            if ticket in self._holders:
                return True
            taken = self._cond.wait_for(
                lambda: self._waiting and self._waiting[0] == ticket and self._free(),
                timeout)
            if not taken:
                return False
            self._waiting.popleft()
            self._holders.add(ticket)
            self._cond.notify_all()  # the next in line may take another free slot
            return True

    def leave(self, ticket: int) -> None:
        """Give back a slot, or a place in the queue: safe to call once in any state."""
        with self._cond:
            self._holders.discard(ticket)
            try:
                self._waiting.remove(ticket)
            except ValueError:
                pass
            self._cond.notify_all()

    @contextlib.contextmanager
    def slot(self, on_wait: Callable[[int], None] | None = None,
             poll: float = 0.5, patience: float = 0.0) -> Iterator[int]:
        """Hold a slot for the `with` block; `on_wait(n_ahead)` runs while waiting, first
        after `patience` seconds (0: tell a waiter its place at once), then every `poll`."""
        ticket = self.enqueue()
        try:
            timeout = patience
            while not self.try_take(ticket, timeout=timeout):
                if on_wait is not None:
                    on_wait(self.position(ticket))
                timeout = poll
            yield ticket
        finally:
            self.leave(ticket)


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_slots() -> int:
    """About one training per core: GRADIENT_LAB_TRAINING_SLOTS, else the usable cores."""
    configured = os.environ.get("GRADIENT_LAB_TRAINING_SLOTS", "").strip()
    return max(1, int(configured)) if configured else usable_cores()


def default_page_slots() -> int:
    """Page runs at once: GRADIENT_LAB_PAGE_SLOTS, else one more than the usable cores
    (one page's TensorFlow work can leave a core to another page's Python)."""
    configured = os.environ.get("GRADIENT_LAB_PAGE_SLOTS", "").strip()
    return max(1, int(configured)) if configured else usable_cores() + 1


_queues: dict[str, SlotQueue] = {}
_queue_lock = threading.Lock()


def _queue(name: str, slots: int | None | str, default: Callable[[], int]) -> SlotQueue:
    with _queue_lock:
        if name not in _queues:
            _queues[name] = SlotQueue(default() if slots == "default" else slots)
        return _queues[name]


def training_queue(slots: int | None | str = "default") -> SlotQueue:
    """The process's one training queue, made on first use (later `slots` are ignored)."""
    return _queue("training", slots, default_slots)


def page_queue(slots: int | None | str = "default") -> SlotQueue:
    """The process's one queue of page runs, made on first use (later `slots` ignored)."""
    return _queue("page", slots, default_page_slots)


_held = threading.local()  # the page slot this thread's script run holds


@contextlib.contextmanager
def page_slot(on_wait: Callable[[int], None] | None = None, poll: float = 0.5,
              patience: float = 0.3) -> Iterator[int]:
    """Hold a page slot for a script run (the `with` block), in this thread."""
    with page_queue().slot(on_wait=on_wait, poll=poll, patience=patience) as ticket:
        _held.ticket = ticket
        try:
            yield ticket
        finally:
            _held.ticket = None


def release_page_slot() -> None:
    """Give this thread's page slot back for the rest of its run (before a long wait,
    a training's): other pages must not queue behind it. Safe when none is held."""
    ticket = getattr(_held, "ticket", None)
    if ticket is not None:
        _held.ticket = None
        page_queue().leave(ticket)
