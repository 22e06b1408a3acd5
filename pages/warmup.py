"""Warm the server while a visitor reads the home page: load TensorFlow and trace the
graphs the first topic page needs, in a background thread, once per process."""
from __future__ import annotations

import threading

_started = threading.Event()
_start_lock = threading.Lock()


def _warm() -> None:
    from core.experiments.problem import identity_spec
    from core.per_layer import profile
    from core.spec import ModelSpec
    profile(identity_spec(50, 1.5))  # The problem's defaults: cached for the first visit
    profile(ModelSpec(depth=50, width=128, batch_size=128, activation="tanh",
                      init="random_normal", stddev=0.05))


def start_in_background() -> bool:
    """Start the warm-up unless it already ran in this process; True if started now."""
    with _start_lock:  # checked and set together: exactly one caller starts it
        if _started.is_set():
            return False
        _started.set()
    threading.Thread(target=_warm, name="gradient-lab-warmup", daemon=True).start()
    return True
