"""NaN forensics charts: the steps leading up to a divergence, per layer or per step.

Pure functions from a core.forensics report to Altair charts. The diverged step is
drawn too, its inf and nan pinned to the axis edge and marked (core.charts.base).
"""
from __future__ import annotations

import pandas as pd

from .base import STEP_TITLE, log_chart, remembered
from .training import layer_lines

LAYER_CHARTS = {
    "weight_grad_norm": ("Weight-gradient norm per layer, up to the divergence",
                         "‖dLoss/dW_l‖ (log)"),
    "update_ratio": ("Update-to-weight ratio per layer, up to the divergence",
                     "‖ΔW_l‖ / ‖W_l‖ per step (log)")}


@remembered
def lead_up_chart(found: dict, column: str):
    """One line per hidden layer over the last finite steps and the diverged one."""
    title, y_title = LAYER_CHARTS[column]
    subtitle = f"step {found['step']}: the first non-finite {found['quantity']}"
    if column == "update_ratio":
        return layer_lines(found["layers"], column, title=title, y_title=y_title,
                           guide=1e-3, guide_label="1e-3: a healthy ratio (rule of thumb)",
                           subtitle=subtitle + "; dashed: 1e-3 guide")
    return layer_lines(found["layers"], column, title=title, y_title=y_title,
                       subtitle=subtitle)


@remembered
def step_lead_up_chart(found: dict):
    """‖g‖ and learning rate × ‖g‖ per step, up to the divergence (no layers: Through
    time's recurrent run)."""
    steps = found["steps"]
    long = pd.concat([
        pd.DataFrame({"step": steps["step"], "series": "‖g‖ (gradient norm, all weights)",
                      "value": steps["global_grad_norm"]}),
        pd.DataFrame({"step": steps["step"], "series": "learning rate × ‖g‖ (the step)",
                      "value": steps["lr_times_grad_norm"]})], ignore_index=True)
    return log_chart(long, x="step", x_title=STEP_TITLE, y_title="norm (log)",
                     title="Gradient norm and step size, up to the divergence",
                     subtitle=f"step {found['step']}: the first non-finite "
                              f"{found['quantity']}; learning rate "
                              f"{found['learning_rate']:g}" + (
                                  " (the two lines coincide)"
                                  if found["learning_rate"] == 1 else ""), height=260)
