"""Gradients through time: pure functions from core.through_time's tables to Altair.

Every gradient axis is logarithmic through core.charts.log_chart, so underflow (0) and
overflow (inf, nan) stay visible as marked points at the plot's edges.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .base import (STEP_TITLE, TIME_STEP_TITLE, format_value, log_chart, long_format,
                   remembered)
SIGNAL_TITLE = "‖d(loss)/d(h_t)‖ (L2 norm over the batch)"
# Streamlit fits legends and titles inside the chart's height: leave room for the plot.
HEIGHT = 460


@remembered
def signal_through_time(table: pd.DataFrame, *, title: str, theory: np.ndarray | None = None,
                        radius: float | None = None):
    """The measured signal per step; with `theory`, the dashed line rho^(T-t)."""
    measured = {"signal_grad_norm": "measured ‖d(loss)/d(h_t)‖"}
    if "cell_grad_norm" in table and table["cell_grad_norm"].notna().any():
        measured["cell_grad_norm"] = "measured ‖d(loss)/d(c_t)‖ (LSTM cell state)"
    frames = [long_format(table, "step", measured)]
    subtitle = "measured with tf.GradientTape (solid)"
    if theory is not None:
        # Drawn wherever it is finite; with no finite point (the measured gradient it
        # is scaled by is inf or nan at every step) it stays out of the legend too.
        theory = np.asarray(theory, dtype=np.float64)
        drawn = np.isfinite(theory)
        if drawn.any():
            frames.append(pd.DataFrame({"step": table["step"][drawn],
                                        "series": f"theory ρ^(T−t)·‖d(loss)/d(h_T)‖, ρ = "
                                                  f"{format_value(radius, digits=3)}",
                                        "value": theory[drawn], "kind": "theory"}))
            subtitle += "; theory for a linear cell, Pascanu et al. 2013 (dashed)"
        else:
            subtitle += "; no theory line: the measured gradient that scales it is " \
                        "inf or nan at every step"
    return log_chart(pd.concat(frames, ignore_index=True), x="step",
                     x_title=TIME_STEP_TITLE, y_title=SIGNAL_TITLE, title=title, height=HEIGHT,
                     subtitle=subtitle, dash="kind")


@remembered
def compare_cells(table: pd.DataFrame, *, title: str):
    """One line per cell (a core.experiments.through_time.compare_cells table)."""
    long = pd.DataFrame({"step": table["step"], "series": table["cell"],
                         "value": table["signal_grad_norm"]})
    return log_chart(long, x="step", x_title=TIME_STEP_TITLE, y_title=SIGNAL_TITLE, title=title,
                     height=HEIGHT,
                     subtitle="same inputs, loss and recurrent initializer for every cell")


@remembered
def forget_bias(table: pd.DataFrame, *, title: str):
    """One line per LSTM forget-gate bias (core.experiments.through_time's sweep)."""
    long = pd.DataFrame({"step": table["step"],
                         "series": [f"forget bias {b:g}" + (" (Keras default)" if b == 1
                                                            else "")
                                    for b in table["forget_bias"]],
                         "value": table["signal_grad_norm"]})
    return log_chart(long, x="step", x_title=TIME_STEP_TITLE, y_title=SIGNAL_TITLE, title=title,
                     height=HEIGHT,
                     subtitle="LSTM, the forget gate's initial bias changed, all else equal")


@remembered
def clipping_norms(table: pd.DataFrame, *, title: str):
    """Global gradient norm per training step: before and after clipping, per run."""
    frames = []
    for run, group in table.groupby("run", sort=False):
        if (group["grad_norm_before"] == group["grad_norm_after"]).all() or \
                not group["clipped"].any():
            frames.append(pd.DataFrame({"step": group["step"], "series": f"{run}",
                                        "value": group["grad_norm_before"]}))
        else:
            frames.append(pd.DataFrame({"step": group["step"],
                                        "series": f"{run}: before clipping",
                                        "value": group["grad_norm_before"]}))
            frames.append(pd.DataFrame({"step": group["step"],
                                        "series": f"{run}: after clipping (applied)",
                                        "value": group["grad_norm_after"]}))
    return log_chart(pd.concat(frames, ignore_index=True), x="step",
                     x_title=STEP_TITLE, y_title="global gradient norm ‖g‖",
                     title=title, height=HEIGHT,
                     subtitle="‖g‖ over all weights, every SGD step")


@remembered
def clipping_losses(table: pd.DataFrame, *, title: str):
    """Training loss per step, one line per run."""
    long = pd.DataFrame({"step": table["step"], "series": table["run"],
                         "value": table["loss"]})
    return log_chart(long, x="step", x_title=STEP_TITLE,
                     y_title="training loss (mean squared error)", title=title,
                     height=HEIGHT, subtitle="guessing 0 scores 1; nan = the weights overflowed")
