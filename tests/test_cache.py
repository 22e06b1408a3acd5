"""core.cache.memoize: LRU order, fresh copies, one computation per key, no cached errors."""
import threading
import time

import numpy as np
import pandas as pd
import pytest

from core import cache
from core.cache import fresh, memoize


def test_least_recently_used_is_dropped_first():
    calls = []

    @memoize(entries=2)
    def square(x):
        calls.append(x)
        return x * x

    assert [square(1), square(2), square(1), square(3)] == [1, 4, 1, 9]
    assert square.contains(1) and square.contains(3) and not square.contains(2)
    assert square.size() == 2 and calls == [1, 2, 3]
    square.forget(1)
    assert not square.contains(1)
    square.clear()
    assert square.size() == 0 and square.uncached(4) == 16 and square.size() == 0


def test_every_call_gets_a_fresh_copy():
    @memoize(entries=4)
    def tables(n):
        return {"frame": pd.DataFrame({"a": range(n)}), "array": np.zeros(n), "list": [np.ones(n)]}

    first = tables(3)
    first["frame"].loc[0, "a"] = 99
    first["array"][:] = 5
    first["list"][0][:] = 7
    again = tables(3)
    assert again["frame"]["a"].tolist() == [0, 1, 2]
    assert not again["array"].any() and (again["list"][0] == 1).all()
    assert fresh((1, "x")) == (1, "x")


def test_two_threads_on_one_key_compute_it_once_and_keywords_are_one_key():
    calls = []

    @memoize(entries=4)
    def slow(x, scale=1):
        calls.append(x)
        time.sleep(0.2)
        return x * scale

    results = []
    threads = [threading.Thread(target=lambda: results.append(slow(5, scale=2)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [10] * 4 and calls == [5]
    assert slow.contains(5, scale=2) and not slow.contains(5)


def test_exceptions_are_not_cached():
    attempts = []

    @memoize(entries=2)
    def flaky(x):
        attempts.append(x)
        if len(attempts) == 1:
            raise ValueError("first try fails")
        return x

    with pytest.raises(ValueError):
        flaky(1)
    assert flaky(1) == 1 and attempts == [1, 1]


def test_computations_log_each_miss_with_its_thread_not_the_hits():
    @cache.memoize(entries=4)
    def double(value):
        return value * 2

    before = cache.computations()
    last = before[-1][0] if before else 0
    double(1), double(1), double(2)
    worker = threading.Thread(target=double, args=(3,), name="a-worker")
    worker.start()
    worker.join()
    double(3)
    new = [entry for entry in cache.computations() if entry[0] > last]
    name = double.__qualname__
    assert [(thread, function) for _, thread, function in new] == [
        (threading.current_thread().name, name), (threading.current_thread().name, name),
        ("a-worker", name)]
    assert [number for number, _, _ in new] == sorted({number for number, _, _ in new})


def test_by_identity_keeps_a_value_per_object_and_forgets_the_oldest():
    from core.cache import ByIdentity
    made = []
    cache = ByIdentity(2)

    def make(thing):
        made.append(thing)
        return [len(made)]
    a, b, c = [0], [0], [0]  # equal, but three objects
    assert cache.get(a, make) is cache.get(a, make) and len(made) == 1
    cache.get(b, make)
    cache.get(c, make)  # a is dropped
    assert len(cache) == 2
    cache.get(a, make)
    assert len(made) == 4
    cache.entries = 0
    cache.clear()
    cache.get(a, make)
    assert len(cache) == 0
