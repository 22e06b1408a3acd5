"""Grids and sweeps: one number per network over a grid of settings (the init x
activation heatmap, the signal ratio against sigma_w). Pure Altair, DataFrames in.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .base import format_value, log_chart, remembered
from .profiles import add_layers, title_params, unit_rule


@remembered
def heatmap_chart(grid: pd.DataFrame, clip: float = 10.0) -> alt.LayerChart:
    """init x activation, coloured by log10(signal ratio); 0/inf/nan cells labelled."""
    data = grid.copy()
    values = data["ratio"].to_numpy(dtype=np.float64)
    finite = np.isfinite(values) & (values > 0)
    data["status"] = np.where(finite, "finite", np.where(
        np.isnan(values), "ratio nan", np.where(values == 0, "ratio 0 (underflow)",
                                                "ratio inf (overflow)")))
    data["colour"] = np.where(finite, np.clip(data["log10_ratio"], -clip, clip), np.nan)
    data["label"] = [f"{v:+.1f}" if ok else status
                     for v, ok, status in zip(data["log10_ratio"], finite, data["status"])]
    data["exact"] = [format_value(v) for v in values]
    data["theory"] = [format_value(v) for v in data["theory_log10_ratio"]]
    data["weight_ratio"] = [format_value(v) for v in data["weight_grad_ratio"]]
    inits = list(dict.fromkeys(data["init"]))
    activations = list(dict.fromkeys(data["activation"]))
    base = alt.Chart(data).encode(
        x=alt.X("activation:N", title="activation", sort=activations,
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("init:N", title="initialization", sort=inits),
        tooltip=[alt.Tooltip("init:N"), alt.Tooltip("activation:N"),
                 alt.Tooltip("exact:N", title="signal ratio layer 1 / layer L"),
                 alt.Tooltip("log10_ratio:Q", format=".2f", title="log10 ratio (measured)"),
                 alt.Tooltip("theory:N", title="log10 ratio (mean-field theory)"),
                 alt.Tooltip("weight_ratio:N", title="weight-gradient ratio 1 / L"),
                 alt.Tooltip("verdict:N"), alt.Tooltip("status:N")])
    valid = "isValid(datum.colour)"
    cells = base.transform_filter(valid).mark_rect(stroke="white").encode(
        color=alt.Color("colour:Q", title="log10 ratio",
                        scale=alt.Scale(scheme="blueorange", domain=[-clip, clip],
                                        domainMid=0)))
    # 0, inf and nan cannot be coloured on a log scale: grey cells, labelled.
    broken = base.transform_filter(f"!({valid})").mark_rect(
        stroke="white", color="#6b6b6b")
    text = base.mark_text(fontSize=13).encode(
        text="label:N",
        color=alt.condition(f"{valid} && abs(datum.colour) < {clip * 0.6}",
                            alt.value("black"), alt.value("white")))
    return alt.layer(cells, broken, text).properties(
        title=title_params("Signal ratio ‖dLoss/dh_1‖ / ‖dLoss/dh_L‖ (log10), measured",
                     f"0 = healthy; negative = vanishing, positive = exploding; colour "
                     f"clipped at ±{clip:g}; grey cells: 0, inf or nan as labelled"),
        height=360, width="container")


@remembered
def sweep_chart(rows: pd.DataFrame, edges: dict[str, float | None], depth: int):
    """Signal ratio vs sigma_w: measured points, theory curve, the edge of chaos marked."""
    long = pd.DataFrame({
        "sigma_w": rows["sigma_w"],
        "series": rows["activation"] + np.where(rows["kind"] == "theory", " (theory)",
                                                " (measured)"),
        "value": rows["ratio"], "kind": rows["kind"],
        "group": rows["activation"]})  # measured and theory share a colour, not a dash
    chart = log_chart(long, x="sigma_w", x_title="weight scale σ_w (W ~ N(0, σ_w²/n))",
                      y_title="signal ratio layer 1 / layer L", series="series",
                      dash="kind", title=f"The Goldilocks zone at depth {depth}",
                      subtitle="below 1: vanishing; above 1: exploding; vertical lines: "
                               "theory's edge of chaos (χ = 1)", height=440)
    marks = pd.DataFrame([{"sigma_w": v, "edge": f"{name}: σ_w = {v:.3g}"}
                          for name, v in edges.items() if v])
    one = unit_rule()
    if marks.empty:
        return add_layers(chart, one)
    rules = alt.Chart(marks).mark_rule(strokeDash=[2, 2], color="#555").encode(
        x="sigma_w:Q", tooltip=[alt.Tooltip("edge:N", title="edge of chaos (theory)")])
    return add_layers(chart, one, rules)
