"""Half precision: core.experiments.loss_scaling's tables drawn (the fraction of
gradient entries that are exactly 0 per layer, the loss scale over steps).

Pure Altair: each function takes a DataFrame and returns a chart.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from .base import (LAYER_TITLE, STEP_TITLE, colors, heading, integer_axis, remembered,
                   spec_number)
# One shape per run, so lines that coincide (float32 and loss scaling) stay visible.
RUN_SHAPES = ["circle", "square", "triangle-up", "diamond"]
RUN_DASHES = [[1, 0], [8, 4], [2, 3], [12, 3, 2, 3]]


@remembered
def zero_gradient_chart(zeros: pd.DataFrame, steps: int) -> alt.Chart:
    """Lines over the hidden layers, one per run: the share of the kernel gradient's
    entries that are exactly 0, averaged over `steps` steps (zero_fractions' table)."""
    names = list(dict.fromkeys(zeros["run"]))
    legend = alt.Legend(orient="top", direction="vertical", title=None, labelLimit=400,
                        symbolStrokeWidth=2)
    point = alt.OverlayMarkDef(filled=False, fill="white", strokeWidth=1.5, size=70)
    return alt.Chart(zeros).mark_line(point=point, strokeWidth=2.5).encode(
        x=alt.X("layer:Q", axis=integer_axis(LAYER_TITLE)),
        y=alt.Y("zero_grad_fraction:Q", title="gradient entries exactly 0",
                scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        color=alt.Color("run:N", legend=legend,
                        scale=alt.Scale(domain=names, range=colors(len(names)))),
        strokeDash=alt.StrokeDash("run:N", legend=legend, scale=alt.Scale(
            domain=names, range=[RUN_DASHES[i % 4] for i in range(len(names))])),
        shape=alt.Shape("run:N", legend=legend, scale=alt.Scale(
            domain=names, range=[RUN_SHAPES[i % 4] for i in range(len(names))])),
        tooltip=[alt.Tooltip("run:N"), alt.Tooltip("layer:Q", title="hidden layer"),
                 alt.Tooltip("zero_grad_fraction:Q", format=".1%",
                             title=f"exactly 0 (mean of {steps} steps)"),
                 alt.Tooltip("zero_grad_fraction_step_1:Q", format=".1%",
                             title="exactly 0 at step 1")],
    ).properties(title=heading(
        "Weight-gradient entries that are exactly 0, per layer",
        f"share of each hidden layer's ∂Loss/∂W entries equal to 0, mean of {steps} steps; "
        "in float16 an entry below 3e-8 (half the smallest subnormal) rounds to 0"),
        height=340, width="container")


@remembered
def loss_scale_chart(scales: pd.DataFrame) -> alt.LayerChart:
    """The loss scale of each step (a log-2 axis), for the runs that scale their loss;
    steps whose scaled gradients overflowed (skipped, scale halved) marked in red."""
    scaled = scales[scales["loss_scale"] != 1.0].copy()
    scaled["loss_scale"] = scaled["loss_scale"].astype(float)
    values = scaled["loss_scale"] if len(scaled) else pd.Series([1.0, 2.0 ** 16])
    domain = [spec_number(values.min() / 4), spec_number(values.max() * 4)]
    y = alt.Y("loss_scale:Q", title="loss scale (the loss is multiplied by it)",
              scale=alt.Scale(type="log", base=2, domain=domain),
              axis=alt.Axis(labelExpr="'2^' + format(log(datum.value) / LN2, 'd')",
                            tickCount=6))
    x = alt.X("step:Q", axis=integer_axis(STEP_TITLE))
    tooltip = [alt.Tooltip("run:N"), alt.Tooltip("step:Q"),
               alt.Tooltip("loss_scale:Q", format=",.0f", title="loss scale"),
               alt.Tooltip("overflowed:N", title="gradients overflowed (step skipped)")]
    line = alt.Chart(scaled).mark_line(strokeWidth=2.5, interpolate="step-after",
                                       color=colors(3)[2]).encode(
        x=x, y=y, detail="run:N", tooltip=tooltip)
    skipped = alt.Chart(scaled).transform_filter(alt.datum.overflowed).mark_point(
        shape="triangle-down", filled=True, size=80, color="#D55E00").encode(
        x=x, y=y, tooltip=tooltip)
    return alt.layer(line, skipped).properties(title=heading(
        "Loss scale over training steps",
        "LossScaleOptimizer halves the scale and skips the step when the scaled gradients "
        "overflow (red marks); it doubles it after 2000 steps in a row without overflow"),
        height=260, width="container")
