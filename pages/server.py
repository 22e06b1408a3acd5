"""Streamlit-side tuning for a shared server: many sessions, one process, few cores.

`tune()` runs once per process (idempotent, thread-safe); pages/ui.py calls it first.

- Streamlit calls `keras.backend.clear_session()` after every script run
  (`streamlit.runtime.scriptrunner.script_runner._clean_problem_modules`). That resets
  Keras' global state for every thread of the process while other sessions are
  building models (their auto-generated layer names collide: "The name "dense" is used
  3 times in the model"), and costs a full `gc.collect()` per rerun. Keras keeps its
  state per thread and each script run has its own thread, so nothing piles up
  without it. We keep the rest of that cleanup (matplotlib's close("all")).
- `st.altair_chart` calls the chart's `to_dict()`, which validates the whole spec
  against the Vega-Lite JSON schema on every rerun. Our charts are built by core
  functions that the tests validate with `to_dict()`; the server converts
  them with the documented `to_dict(validate=False)`.
- Altair's debug mode (on by default) validates every schema object as it is built,
  a second validation of what the tests already validate: off on the server.
- A page rebuilds its charts at every rerun, though most are the same as the last
  rerun's. core.charts remembers its charts by their inputs' contents
  (core.charts.base.remembered), and the server keeps each remembered chart's
  converted spec (SPECS): an unchanged chart costs a dict copy, not a build and a
  to_dict() tree walk. These were most of the Initialization page's rerun.
- numpy's OpenBLAS runs each matrix product on a pool of threads (one per core) whose
  workers spin, busy, for about 0.1 s after every call, waiting for more. On a server
  whose parallelism is its sessions, that spinning took a core from the others: a
  visit to The problem cost 0.21 s of CPU against 0.10 s with one BLAS thread, Why
  0.26 against 0.14, Initialization 0.37 against 0.28, at the same wall time. BLAS
  gets one thread: the libraries loaded now through threadpoolctl, those loaded later
  (scipy's own OpenBLAS) through OPENBLAS_NUM_THREADS, which OpenBLAS reads as it loads.
- The process-wide training queue (pages/admission.py) gets its slots, about one per
  core; pages/training_runs.py trains in them. The page queue gets one more than the
  cores: pages/controls.run_page runs each page in a slot.

GRADIENT_LAB_NO_TUNING=1 turns the first five off and lets every training and every page
run at once (the naive baseline of benchmarks/bench_classroom.py).
"""
from __future__ import annotations

import logging
import os
import sys
import threading

from core.cache import ByIdentity
from core.charts import base as chart_base
from pages import admission

_LOGGER = logging.getLogger(__name__)
_lock = threading.Lock()
_tuned = False
applied: dict[str, bool] = {}  # what tune() changed, for tests and the benchmark


def tuning_disabled() -> bool:
    return os.environ.get("GRADIENT_LAB_NO_TUNING", "").strip() not in ("", "0")


def _clean_problem_modules_except_keras() -> None:
    """Streamlit's post-run cleanup without keras.backend.clear_session()."""
    if "matplotlib.pyplot" in sys.modules:
        try:
            sys.modules["matplotlib.pyplot"].close("all")
        except Exception:  # noqa: BLE001 - as Streamlit: cleanup never breaks a run
            pass


def _replace(module, name: str, make, what: str) -> bool:
    """Replace `module.name` (a private Streamlit function) by `make(original)`, once.

    If Streamlit no longer has it, log `what` stays untuned and return False."""
    original = getattr(module, name, None)
    if original is None:
        _LOGGER.warning("streamlit's %s.%s is gone: %s", module.__name__, name, what)
        return False
    if not getattr(original, "_gradient_lab", False):
        replacement = make(original)
        replacement._gradient_lab = True
        replacement.__wrapped__ = original
        setattr(module, name, replacement)
    return True


def _keep_keras_state() -> bool:
    from streamlit.runtime.scriptrunner import script_runner
    return _replace(script_runner, "_clean_problem_modules",
                    lambda original: _clean_problem_modules_except_keras,
                    "the per-rerun Keras clear_session is not replaced")


SPECS = ByIdentity(256)  # chart -> its converted Vega-Lite spec (Streamlit's to_dict)


class _Unvalidated:
    """A chart whose to_dict() skips the schema validation; everything else delegates."""

    def __init__(self, chart):
        self._chart = chart

    def to_dict(self, *args, **kwargs):
        kwargs.setdefault("validate", False)
        return self._chart.to_dict(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._chart, name)


def _skip_chart_validation() -> bool:
    from streamlit.elements import vega_charts

    def make(original):
        def convert(altair_chart):
            spec = SPECS.get(altair_chart, lambda chart: original(_Unvalidated(chart)))
            # Streamlit changes the spec's top level (datasets, data, autosize): a copy.
            return {**spec, "datasets": dict(spec.get("datasets") or {})}
        return convert
    return _replace(vega_charts, "_convert_altair_to_vega_lite_spec", make,
                    "Altair charts are validated on every rerun")


def _one_blas_thread() -> bool:
    from threadpoolctl import threadpool_limits
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    threadpool_limits(limits=1, user_api="blas")  # kept: not used as a context manager
    return True


def _no_altair_debug_mode() -> bool:
    from altair.utils import schemapi
    schemapi.disable_debug_mode()
    return not schemapi.DEBUG_MODE


def tune() -> dict[str, bool]:
    """Apply the tuning once per process; returns what was applied."""
    global _tuned
    with _lock:
        if not _tuned:
            _tuned = True
            if not tuning_disabled():
                applied["keep_keras_state"] = _keep_keras_state()
                applied["skip_chart_validation"] = _skip_chart_validation()
                applied["altair_no_debug_mode"] = _no_altair_debug_mode()
                applied["one_blas_thread"] = _one_blas_thread()
            else:  # the naive baseline builds and converts every chart at every rerun
                chart_base.REMEMBER["entries"] = SPECS.entries = 0
            admission.training_queue(None if tuning_disabled() else admission.default_slots())
            admission.page_queue(None if tuning_disabled() else admission.default_page_slots())
    return applied
