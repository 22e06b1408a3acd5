"""Trainings on a shared server: each waits for one of the process-wide training slots
(pages/admission.py; pages/server.py sets their number), showing its place in the
queue, and reports its progress while it trains.

- `training_slot()`: hold a slot for a `with` block, a note while waiting.
- `train_runs()`: train several runs in turn, each in a slot, under one progress bar.
- `train_all()`: train_runs, keeping the tables in the session as they come.
"""
from __future__ import annotations

import contextlib
import time
from typing import Iterator

import streamlit as st

from pages import admission

WAITING = "Waiting for a free training slot ({ahead} ahead)..."


@contextlib.contextmanager
def training_slot(poll: float = 0.5) -> Iterator[None]:
    """Hold one of the process-wide training slots for the `with` block.

    While waiting, a note says how many trainings are ahead. Redrawing the note is a
    Streamlit call, so a stop or rerun of this session raises there; the ticket is
    given back in every case (normal end, exception, stop).
    """
    admission.release_page_slot()  # no page queues behind a training's wait and run
    with admission.noted(admission.training_queue().slot,
                         lambda ahead: WAITING.format(ahead=ahead), poll=poll):
        yield


DRAW_EVERY = 0.4  # seconds between two redraws of a training's progress


def train_runs(runs: dict, keep, live=None) -> None:
    """Train every run (label -> (ModelSpec, TrainingSpec)) in turn, each in a training
    slot, under one progress bar; `keep(label, table)` receives each table.

    `live(label, progress)` may draw more at each redraw (core.train's on_step report).
    A stop or rerun of this session lands in a redraw (a Streamlit call, which raises):
    the run then ends cleanly there (core.train returns what it measured, "cancelled"),
    `keep` gets it labelled "(stopped at step N)", and the stop goes on.
    """
    from core.training import progress_text, train
    bar = st.progress(0.0, text="Starting: building and tracing the network...")
    stops = []
    for number, (label, (model, training)) in enumerate(runs.items()):
        drawn = [0.0]

        def on_step(progress, number=number, label=label, drawn=drawn):
            now = time.perf_counter()
            if now - drawn[0] < DRAW_EVERY and progress["step"] < progress["steps"]:
                return
            drawn[0] = now
            try:
                bar.progress((number + progress["step"] / progress["steps"]) / len(runs),
                             text=f"Run {number + 1} of {len(runs)}, {label}: "
                                  f"{progress_text(progress)}")
                if live is not None:
                    live(label, progress)
            except BaseException as stop:  # Streamlit's rerun or stop: end the run here
                stops.append(stop)
                return False
        with training_slot():
            table = train(model, training, on_step=on_step)
        if table.attrs["stopped"] == "cancelled":
            label = f"{label} (stopped at step {table.attrs['steps_done']})"
        keep(label, table)
        if stops:
            raise stops[0]
    bar.empty()


def train_all(runs: dict, state_key: str) -> None:
    """Train every run; the tables kept in `st.session_state[state_key]` as they come,
    also when a click elsewhere stops the runs (the steps done so far are kept)."""
    tables = {}

    def keep(label, table):
        tables[label] = table
        st.session_state[state_key] = tables
    train_runs(runs, keep)
