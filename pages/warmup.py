"""Warm the server from its first visit on (any page: pages/controls.run_page starts
it): load TensorFlow and trace the graphs the topic pages need, in a background
thread, once per process.

core.per_layer.warm_up traces its one graph for every activation per (batch_norm,
residual, dtype) key, most wanted first; the first topic page's defaults are computed
right after the first key, so that they are cached for the first visit; so is
Initialization's Goldilocks sweep, whose batched pass the Phase diagram shares. The
16-bit formats come last, so they delay nothing else; after them, the finite-width
fan, the Jacobian spectrum and born dead at their pages' defaults."""
from __future__ import annotations

import threading

_started = threading.Event()
_start_lock = threading.Lock()


def _warm() -> None:
    from core.experiments.initialization import sweep
    from core.finite_width import (PAGE_DEPTH, PAGE_SEEDS, PAGE_WIDTH, FiniteWidthSpec,
                                   spread_over_widths)
    from core.experiments.problem import identity_spec
    from core.per_layer import HALF_KEYS, WARM_KEYS, profile, warm_up
    from core.spec import ModelSpec
    warm_up(keys=WARM_KEYS[:1])  # float32: every activation, at full size
    profile(identity_spec(50, 1.5))  # The problem's defaults: cached for the first visit
    profile(ModelSpec(depth=50, width=128, batch_size=128, activation="tanh",
                      init="random_normal", stddev=0.05))
    # Initialization's Goldilocks zone, as the page asks for it: cached, and the batched
    # pass it shares with the Phase diagram (core.phase_pass) traced for tanh and ReLU
    sweep(depth=30, width=128)
    warm_up(keys=WARM_KEYS[1:], full_size=False)
    warm_up(keys=HALF_KEYS, full_size=False)  # The problem's float16 and bfloat16
    # last: Initialization's finite-width section at its defaults (100 seeds per width)
    spread_over_widths(FiniteWidthSpec(seeds=PAGE_SEEDS, depth=PAGE_DEPTH,
                                        width=PAGE_WIDTH))
    # then the Jacobian spectrum (Why, Initialization) and born dead (Activations) at
    # their defaults: about 5 s and 1-8 s of a first visit's wait otherwise
    from core.born_dead import BornDeadSpec, over_widths
    from core.experiments.phase import isometry
    isometry("linear")
    over_widths(BornDeadSpec(depth=50, seeds=500))


def start_in_background() -> bool:
    """Start the warm-up unless it already ran in this process; True if started now."""
    with _start_lock:  # checked and set together: exactly one caller starts it
        if _started.is_set():
            return False
        _started.set()
    threading.Thread(target=_warm, name="gradient-lab-warmup", daemon=True).start()
    return True
