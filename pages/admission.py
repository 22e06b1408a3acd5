"""The server's process-wide queues (core.slots.SlotQueue): trainings and page runs.

Trainings take seconds of every core; many at once on a small server make each one
slower and all of them late: `training_queue()` lets about one per core run together
and queues the rest in arrival order.

`page_queue()` is passed by every script run of a page (pages/controls.run_page;
about one more than the cores). Thirty pages run at once all hold Python's GIL in turn
and each finishes late; run a few at a time, they finish in arrival order and sooner
on the whole: in a class of 30 (benchmarks/bench_classroom.py), p50 1.1-1.8 s and p95
2.7-3.2 s to the charts, against 3.2-3.4 s and 4.1-4.8 s with every page run at once.
A page run gives its slot back for good when it starts waiting for a training
(`release_page_slot`).
"""
from __future__ import annotations

import contextlib
import os
import threading
from typing import Callable, Iterator

import streamlit as st

from core.slots import SlotQueue


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


@contextlib.contextmanager
def noted(slot: Callable, say: Callable[[int], str], **options) -> Iterator[int]:
    """Hold `slot(on_wait=..., **options)` (a queue's slot) for the `with` block, with a
    note in the page while waiting: `say(n_ahead)`, redrawn at every poll (a Streamlit
    call: where a stop or rerun of the session lands). The note goes once the slot is
    taken, and at any other end."""
    note = st.empty()

    def waiting(ahead: int) -> None:
        note.info(say(ahead), icon="⏳")

    try:
        with slot(on_wait=waiting, **options) as ticket:
            note.empty()
            yield ticket
    finally:
        note.empty()
