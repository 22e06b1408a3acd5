"""A fair first-in first-out queue of slots: a process-wide limit on work, in threads.

`SlotQueue.slot()` lets `slots` holders run together and queues the rest in arrival
order. A waiter learns its place (`position`, the number ahead of it) through a
callback it is given every `poll` seconds; if that callback raises (a stopped
session), or the work in the block raises, the ticket or the slot is given back.
Plain threading: pages/admission.py keeps the server's queues of trainings and page
runs.
"""
from __future__ import annotations

import contextlib
import itertools
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
