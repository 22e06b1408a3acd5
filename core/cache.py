"""The one cache layer: a thread-safe LRU for computations keyed by frozen specs.

Every cached computation in core (the per-layer pass, the recurrent pass, the pages'
experiments) is wrapped with `memoize`. The app's pages call these functions directly, so
a result is cached once, in one place, for every session, the command line and notebooks.

- Keys are the call's arguments, which must be hashable (frozen specs, numbers, strings,
  tuples).
- Each call returns a fresh copy of the result (DataFrames, numpy arrays, and dicts,
  lists or tuples of them), so a caller may modify what it gets.
- Two threads asking for the same key at once compute it once: the second waits.
- Exceptions are not cached.
- Every computation (a miss) is logged with its thread's name: `computations()`.
"""
from __future__ import annotations

import functools
import itertools
import threading
from collections import OrderedDict, deque

import numpy as np
import pandas as pd


def fresh(value):
    """A copy of `value` that shares no mutable table or array with it."""
    if isinstance(value, (pd.DataFrame, pd.Series, np.ndarray)):
        return value.copy()
    if isinstance(value, dict):
        return {key: fresh(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(fresh(item) for item in value)
    return value


_computed: deque = deque(maxlen=512)  # (number, thread name, function) of recent misses
_numbers = itertools.count(1)


def computations() -> list[tuple[int, str, str]]:
    """(number, thread name, function name) of the last 512 computations, oldest first,
    numbered from 1 in this process: which results were computed rather than answered
    from the cache, and by which thread."""
    return list(_computed)


def _key(args: tuple, kwargs: dict):
    return args, tuple(sorted(kwargs.items()))


def memoize(entries: int):
    """Decorator: keep the last `entries` results, least recently used dropped first.

    The wrapper has `contains(...)`, `forget(...)`, `clear()`, `size()`, a settable
    `entries` and the `uncached` function."""
    def decorate(function):
        results: OrderedDict = OrderedDict()
        lock = threading.Lock()
        computing: dict = {}  # key -> lock held while one thread computes it

        @functools.wraps(function)
        def cached(*args, **kwargs):
            key = _key(args, kwargs)
            while True:
                with lock:
                    if key in results:
                        results.move_to_end(key)
                        return fresh(results[key])
                    waiting = computing.get(key)
                    if waiting is None:
                        mine = computing[key] = threading.Lock()
                        mine.acquire()
                        break
                with waiting:  # another thread computes this key: wait, then look again
                    pass
            try:
                _computed.append((next(_numbers), threading.current_thread().name,
                                  function.__qualname__))
                value = function(*args, **kwargs)
                with lock:
                    results[key] = value
                    while len(results) > cached.entries:
                        results.popitem(last=False)
                return fresh(value)
            finally:
                with lock:
                    del computing[key]
                mine.release()

        def contains(*args, **kwargs) -> bool:
            with lock:
                return _key(args, kwargs) in results

        def forget(*args, **kwargs) -> None:
            with lock:
                results.pop(_key(args, kwargs), None)

        def clear() -> None:
            with lock:
                results.clear()

        def size() -> int:
            with lock:
                return len(results)

        cached.contains, cached.forget, cached.clear, cached.size = contains, forget, clear, size
        cached.entries = entries
        cached.uncached = function
        return cached
    return decorate


class ByIdentity:
    """A thread-safe LRU keyed by an object's identity, for values derived from objects
    that are themselves shared (core.charts' remembered charts): the object is kept
    beside its value, so its id() cannot be reused while it is cached."""

    def __init__(self, entries: int):
        self.entries = entries
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, thing, make):
        """make(thing), or the value kept for this very object."""
        with self._lock:
            kept = self._items.get(id(thing))
            if kept is not None and kept[0] is thing:
                self._items.move_to_end(id(thing))
                return kept[1]
        value = make(thing)
        if self.entries:
            with self._lock:
                self._items[id(thing)] = (thing, value)
                while len(self._items) > self.entries:
                    self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
