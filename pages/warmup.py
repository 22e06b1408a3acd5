"""Warm the server from its first visit on (any page: pages/controls.run_page starts
it): load TensorFlow and trace the graphs the topic pages need, in a background
thread, once per process.

core.per_layer.warm_up traces its one graph for every activation per (batch_norm,
residual, dtype) key, most wanted first; the first topic page's defaults are computed
right after the first key, so that they are cached for the first visit; so is
Initialization's Goldilocks sweep, whose batched pass the Phase diagram shares. The
16-bit formats come late, so they delay nothing else; after them, the finite-width
fan, the Jacobian spectrum and born dead at their pages' defaults.

Visitors come first: between two steps the warm-up waits while any script runs, and
for a second after (its browser is drawing the charts it was sent), up to 20 s a step.
At a cold start that took about a second off The problem's first chart
(benchmarks/bench_server.py): the browser drew it while the warm-up's next steps
took both cores."""
from __future__ import annotations

import contextlib
import threading
import time

_started = threading.Event()
_start_lock = threading.Lock()

# Visitors first: between its steps the warm-up waits until no script has run for
# QUIET_SECONDS (the browser is still drawing what the last run sent), but never more
# than MOST_SECONDS per step, so that a busy server still gets warm.
QUIET_SECONDS = 1.0
MOST_SECONDS = 20.0
_visits = threading.Condition()
_running = 0
_last_end = 0.0


@contextlib.contextmanager
def visiting():
    """Around a script run (pages/controls.run_page): the warm-up waits meanwhile."""
    global _running, _last_end
    with _visits:
        _running += 1
    try:
        yield
    finally:
        with _visits:
            _running -= 1
            _last_end = time.monotonic()
            _visits.notify_all()


def _after_visitors() -> None:
    """Wait until no script has run for QUIET_SECONDS, or MOST_SECONDS have passed."""
    deadline = time.monotonic() + MOST_SECONDS
    with _visits:
        while True:
            now = time.monotonic()
            quiet = 0.0 if _running else now - _last_end
            if quiet >= QUIET_SECONDS or now >= deadline:
                return
            _visits.wait(min(deadline - now, QUIET_SECONDS - quiet))


def _steps():
    """The warm-up's steps, most wanted first."""
    from core.born_dead import BornDeadSpec, over_widths
    from core.experiments.initialization import sweep
    from core.experiments.phase import isometry
    from core.experiments.problem import identity_spec
    from core.finite_width import (PAGE_DEPTH, PAGE_SEEDS, PAGE_WIDTH, FiniteWidthSpec,
                                   spread_over_widths)
    from core.per_layer import HALF_KEYS, WARM_KEYS, profile, warm_up
    from core.spec import ModelSpec
    return [
        # float32: the one graph for every activation, traced (a first page waits on it)
        lambda: warm_up(keys=WARM_KEYS[:1], full_size=False),
        # The problem's defaults: cached for the first visit
        lambda: profile(identity_spec(50, 1.5)),
        lambda: profile(ModelSpec(depth=50, width=128, batch_size=128, activation="tanh",
                                  init="random_normal", stddev=0.05)),
        # the first pass at full size (memory, kernels); not in the first step, where
        # it would compete with a first visitor's browser drawing its charts
        lambda: warm_up(keys=WARM_KEYS[:1]),
        # Initialization's Goldilocks zone, as the page asks for it: cached, and the
        # batched pass it shares with the Phase diagram (core.phase_pass) traced for
        # tanh and ReLU
        lambda: sweep(depth=30, width=128),
        lambda: warm_up(keys=WARM_KEYS[1:], full_size=False),
        lambda: warm_up(keys=HALF_KEYS, full_size=False),  # float16 and bfloat16
        # Initialization's finite-width section at its defaults (100 seeds per width)
        lambda: spread_over_widths(FiniteWidthSpec(seeds=PAGE_SEEDS, depth=PAGE_DEPTH,
                                                   width=PAGE_WIDTH)),
        # the Jacobian spectrum (Why, Initialization) and born dead (Activations) at
        # their defaults: about 5 s and 1-8 s of a first visit's wait otherwise
        lambda: isometry("linear"),
        lambda: over_widths(BornDeadSpec(depth=50, seeds=500)),
    ]


def _warm() -> None:
    for index, step in enumerate(_steps()):
        if index:
            _after_visitors()
        step()


def start_in_background() -> bool:
    """Start the warm-up unless it already ran in this process; True if started now."""
    with _start_lock:  # checked and set together: exactly one caller starts it
        if _started.is_set():
            return False
        _started.set()
    threading.Thread(target=_warm, name="gradient-lab-warmup", daemon=True).start()
    return True
