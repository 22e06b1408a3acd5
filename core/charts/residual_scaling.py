"""Residual scaling (Remedies): the forward and backward signal through skipped layers
h + beta x branch(h), one colour per beta, measured (solid) beside theory (dashed).

Pure Altair over core.experiments.residual_scaling.signal_profiles' table.
"""
from __future__ import annotations

import pandas as pd

from .base import remembered
from .profiles import add_layers, layer_chart, measured_and_theory, unit_rule

DIRECTIONS = {
    "forward": ("forward_gain", "theory_forward_gain", "‖h_l‖ / ‖h_1‖",
                "Forward: the signal ‖h_l‖ against layer 1's",
                "measured (solid); theory (1 + β²)^((l−1)/2) (dashed)"),
    "backward": ("backward_gain", "theory_backward_gain", "‖dLoss/dh_l‖ / ‖dLoss/dh_L‖",
                 "Backward: the gradient ‖dLoss/dh_l‖ against the top layer's",
                 "tf.GradientTape (solid); theory (1 + β²)^((L−l)/2) (dashed)"),
}


def signal_long(profiles: pd.DataFrame, direction: str) -> pd.DataFrame:
    """Long rows for log_chart: each beta's measured gain and its theory, one colour
    (group) per beta."""
    measured, theory = DIRECTIONS[direction][:2]
    long = measured_and_theory(profiles, measured, theory, "measured", group="label")
    return long.assign(group=long["series"].str.rsplit(": ", n=1).str[0])


@remembered
def signal_chart(profiles: pd.DataFrame, direction: str, branch: str):
    """One direction ("forward" or "backward") of every beta, measured and theory, with
    a rule at 1 (no growth); `branch` names the network in the subtitle."""
    _, _, y_title, title, subtitle = DIRECTIONS[direction]
    chart = layer_chart(signal_long(profiles, direction), y_title, title,
                        [branch, subtitle], height=340)
    return add_layers(chart, unit_rule())
