"""The phase diagram: measured signal ratios over (sigma_w2, sigma_b2) with theory's
critical line and depth-scale contours drawn over them, and one point's profile.
Pure Altair, DataFrames in (core.experiments.phase's tables).
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .base import format_value, heading, remembered
from .profiles import layer_chart, measured_and_theory

W_TITLE = "weight variance σ_w² (W ~ N(0, σ_w²/n))"
B_TITLE = "bias variance σ_b² (b ~ N(0, σ_b²), square-root axis)"


def _edges(values: np.ndarray, low: float | None = None,
           sqrt: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Each grid value's cell: from the midpoint with its left neighbour to the one with
    its right neighbour (half a gap beyond the ends, never below `low`); `sqrt`: the
    midpoints on a square-root axis."""
    values = np.asarray(values, dtype=np.float64)
    if sqrt:
        starts, ends = _edges(np.sqrt(values), None if low is None else np.sqrt(low))
        return starts ** 2, ends ** 2
    if len(values) == 1:
        half = max(abs(values[0]) * 0.25, 0.05)
        starts, ends = values - half, values + half
    else:
        middle = (values[1:] + values[:-1]) / 2
        starts = np.concatenate([[values[0] - (middle[0] - values[0])], middle])
        ends = np.concatenate([middle, [values[-1] + (values[-1] - middle[-1])]])
    if low is not None:
        starts = np.maximum(starts, low)
    return starts, ends


def cells(grid: pd.DataFrame, clip: float) -> pd.DataFrame:
    """The grid with its cells' edges, clipped colour, status and tooltip texts."""
    data = grid.copy()
    for column, sqrt in (("sigma_w2", False), ("sigma_b2", True)):
        values = np.sort(data[column].unique())
        starts, ends = _edges(values, 0.0, sqrt)
        index = np.searchsorted(values, data[column].to_numpy())
        data[f"{column}_start"], data[f"{column}_end"] = starts[index], ends[index]
        centre = ((np.sqrt(starts) + np.sqrt(ends)) / 2) ** 2 if sqrt else \
            (starts + ends) / 2
        data[f"{column}_centre"] = centre[index]
    ratio = data["measured_ratio"].to_numpy(dtype=np.float64)
    finite = np.isfinite(ratio) & (ratio > 0)
    data["status"] = np.where(finite, "finite", np.where(
        np.isnan(ratio), "ratio nan", np.where(ratio == 0, "ratio 0 (underflow)",
                                               "ratio inf (overflow)")))
    data["colour"] = np.where(finite, np.clip(data["measured_log10_ratio"], -clip, clip),
                              np.nan)
    data["label"] = [f"{v:+.1f}" if ok else "0/inf"
                     for v, ok in zip(data["measured_log10_ratio"], finite)]
    for column in ("measured_ratio", "theory_log10_ratio", "chi1", "q_star",
                   "depth_scale", "critical_sigma_w2"):
        data[f"{column}_text"] = [format_value(float(v)) for v in data[column]]
    return data


@remembered
def phase_chart(grid: pd.DataFrame, lines: pd.DataFrame, chosen: tuple | None = None,
                clip: float = 8.0) -> alt.LayerChart:
    """Heatmap of the measured log10 signal ratio, theory's lines over it, and the chosen
    (sigma_w2, sigma_b2) outlined."""
    data = cells(grid, clip)
    x_domain = [float(data["sigma_w2_start"].min()), float(data["sigma_w2_end"].max())]
    y_domain = [0.0, float(data["sigma_b2_end"].max())]
    x_scale = alt.Scale(domain=x_domain, nice=False, zero=False)
    y_scale = alt.Scale(type="sqrt", domain=y_domain, nice=False)
    x = alt.X("sigma_w2_start:Q", title=W_TITLE, scale=x_scale)
    y = alt.Y("sigma_b2_start:Q", title=B_TITLE, scale=y_scale)
    tooltip = [alt.Tooltip("sigma_w2:Q", title="σ_w²"), alt.Tooltip("sigma_b2:Q",
                                                                       title="σ_b²"),
               alt.Tooltip("measured_ratio_text:N", title="signal ratio 1 / L (measured)"),
               alt.Tooltip("measured_log10_ratio:Q", format=".2f",
                           title="log10 ratio (measured)"),
               alt.Tooltip("theory_log10_ratio_text:N", title="log10 ratio (theory)"),
               alt.Tooltip("chi1_text:N", title="χ₁ (theory)"),
               alt.Tooltip("q_star_text:N", title="q* (theory)"),
               alt.Tooltip("depth_scale_text:N", title="depth scale ξ, layers (theory)"),
               alt.Tooltip("critical_sigma_w2_text:N", title="critical σ_w² (theory)"),
               alt.Tooltip("status:N")]
    base = alt.Chart(data).encode(x=x, x2="sigma_w2_end:Q", y=y, y2="sigma_b2_end:Q",
                                  tooltip=tooltip)
    valid = "isValid(datum.colour)"
    layers = [
        base.transform_filter(valid).mark_rect(stroke="white", strokeWidth=0.5).encode(
            color=alt.Color("colour:Q", title=["log10 ratio", "(measured)"],
                            scale=alt.Scale(scheme="blueorange", domain=[-clip, clip],
                                            domainMid=0))),
        base.transform_filter(f"!({valid})").mark_rect(stroke="white", color="#6b6b6b"),
        alt.Chart(data).mark_text(fontSize=10).encode(
            x=alt.X("sigma_w2_centre:Q", scale=x_scale),
            y=alt.Y("sigma_b2_centre:Q", scale=y_scale), text="label:N", tooltip=tooltip,
            color=alt.condition(f"{valid} && abs(datum.colour) < {clip * 0.6}",
                                alt.value("black"), alt.value("white"))),
    ]
    layers += theory_layers(lines, x_scale, y_scale, x_domain, y_domain)
    if chosen is not None:
        pick = data[(data["sigma_w2"] == chosen[0]) & (data["sigma_b2"] == chosen[1])]
        layers.append(alt.Chart(pick).mark_rect(fill=None, stroke="black", strokeWidth=3)
                      .encode(x=x, x2="sigma_w2_end:Q", y=y, y2="sigma_b2_end:Q",
                              tooltip=[alt.Tooltip("sigma_w2:Q", title="chosen σ_w²"),
                                       alt.Tooltip("sigma_b2:Q", title="chosen σ_b²")]))
    activation = str(grid["activation"].iloc[0]) if "activation" in grid else ""
    return alt.layer(*layers).properties(
        title=heading(f"Phase diagram of {activation}: signal ratio ‖dLoss/dh_1‖ / "
                      f"‖dLoss/dh_L‖ (log10), measured",
                      ["cells: real Keras networks (blue vanishing, orange exploding, grey "
                       f"0 or inf; colour clipped at ±{clip:g}); lines: theory"]),
        height=600, width="container")  # the height includes the title and legends


def theory_layers(lines: pd.DataFrame, x_scale, y_scale, x_domain, y_domain) -> list:
    """The critical line (solid) and depth-scale contours (dashed), labelled, clipped to
    the heatmap."""
    inside = lines[(lines["sigma_w2"] >= x_domain[0]) & (lines["sigma_w2"] <= x_domain[1])
                   & (lines["sigma_b2"] <= y_domain[1])].copy()
    if inside.empty:
        return []
    inside["kind"] = np.where(inside["side"] == "critical", "theory: critical line χ₁ = 1",
                              "theory: depth scale ξ (layers)")
    inside["name"] = inside["line"] + " (theory)"
    encode = dict(x=alt.X("sigma_w2:Q", scale=x_scale), y=alt.Y("sigma_b2:Q", scale=y_scale),
                  detail="line:N", order="q_star:Q",
                  tooltip=[alt.Tooltip("name:N", title="line"),
                           alt.Tooltip("sigma_w2:Q", format=".3f", title="σ_w²"),
                           alt.Tooltip("sigma_b2:Q", format=".3f", title="σ_b²"),
                           alt.Tooltip("q_star:Q", format=".3g", title="q* (theory)")])
    kinds = ["theory: critical line χ₁ = 1", "theory: depth scale ξ (layers)"]
    dash = alt.StrokeDash("kind:N", title=None, scale=alt.Scale(
        domain=kinds, range=[[1, 0], [5, 3]]), legend=alt.Legend(orient="bottom",
                                                                labelLimit=400))
    size = alt.Size("kind:N", scale=alt.Scale(domain=kinds, range=[3, 1.5]), legend=None)
    drawn = alt.Chart(inside).mark_line(color="black", clip=True).encode(
        strokeDash=dash, strokeWidth=size, **encode)
    # One label per contour, staggered in height by depth scale so that close lines'
    # labels do not overlap (heights spaced on the square-root axis).
    contours = inside[inside["side"] != "critical"]
    scales = sorted(contours["depth_scale"].unique())
    picks = []
    for name, rows in contours.groupby("line", sort=False):
        rank = scales.index(rows["depth_scale"].iloc[0])
        target = (np.sqrt(y_domain[1]) * (0.92 - 0.5 * rank / max(len(scales), 1))) ** 2
        picks.append(rows.iloc[[int(np.argmin(np.abs(rows["sigma_b2"] - target)))]])
    ends = pd.concat(picks) if picks else contours.head(0)
    ends = ends.assign(text="ξ=" + ends["depth_scale"].map(lambda v: f"{v:g}"))
    labels = alt.Chart(ends).mark_text(dy=-6, fontSize=10, color="black").encode(
        x=alt.X("sigma_w2:Q", scale=x_scale), y=alt.Y("sigma_b2:Q", scale=y_scale),
        text="text:N", tooltip=[alt.Tooltip("name:N", title="line")])
    return [drawn, labels]


@remembered
def point_charts(table: pd.DataFrame, label: str) -> tuple:
    """(forward, backward) per-layer charts of the chosen network: measured and theory."""
    profiles = table.assign(init=label)
    forward = layer_chart(measured_and_theory(profiles, "activation_std",
                                              "theory_activation_std", "measured"),
                          "std of the layer's outputs h_l", f"Forward at {label}",
                          "measured in Keras (solid) vs mean-field theory (dashed)")
    backward = layer_chart(measured_and_theory(profiles, "signal_grad_norm",
                                               "theory_signal", "measured"),
                           "‖dLoss/dh_l‖ (L2 norm)", f"Backward at {label}",
                           "measured with tf.GradientTape (solid) vs theory √χ products "
                           "from the top layer (dashed)")
    return forward, backward


# --- The Jacobian spectrum ----------------------------------------------------------------
S_TITLE = "singular value s of J = ∂h_L/∂x (log axis)"


@remembered
def spectrum_chart(histogram: pd.DataFrame, weights: str, activation: str) -> alt.LayerChart:
    """Distribution of J's singular values, one step line per depth, for one kind of
    weights; the rule s = 1 is isometry."""
    data = histogram[histogram["weights"] == weights].copy()
    data["s_start"], data["s_end"] = 10.0 ** data["bin_start"], 10.0 ** data["bin_end"]
    data["depth_label"] = "L = " + data["depth"].astype(str)
    depths = [f"L = {d}" for d in sorted(data["depth"].unique())]
    scale = alt.Scale(type="log", domain=[float(data["s_start"].min()),
                                          float(data["s_end"].max())], nice=False)
    lines = alt.Chart(data).mark_line(interpolate="step-after", strokeWidth=2).encode(
        x=alt.X("s_start:Q", title=S_TITLE, scale=scale, axis=alt.Axis(format="~g")),
        y=alt.Y("fraction:Q", title="share of the singular values",
                axis=alt.Axis(format="%")),
        color=alt.Color("depth_label:N", title="depth", sort=depths,
                        scale=alt.Scale(scheme="viridis", domain=depths),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("depth_label:N", title="depth"),
                 alt.Tooltip("s_start:Q", format=".3g", title="s from"),
                 alt.Tooltip("s_end:Q", format=".3g", title="s to"),
                 alt.Tooltip("fraction:Q", format=".1%", title="share")])
    rule = alt.Chart(pd.DataFrame({"s": [1.0], "label": ["s = 1: isometry"]})).mark_rule(
        color="#555", strokeDash=[3, 3]).encode(
        x=alt.X("s:Q", scale=scale), tooltip=alt.Tooltip("label:N", title="reference"))
    return alt.layer(lines, rule).properties(
        title=heading(f"{weights} weights: singular values of J ({activation})",
                      "tf.GradientTape at one input; end bins: s < 0.001, s > 10"),
        height=420, width="container")


@remembered
def lambda_variance_chart(moments: pd.DataFrame, activation: str) -> alt.LayerChart:
    """Var(lambda = s^2) against depth for both kinds of weights: measured points and
    the free-probability theory (dashed)."""
    long = pd.concat([
        pd.DataFrame({"depth": moments["depth"], "weights": moments["weights"],
                      "kind": kind, "value": moments[column],
                      "series": moments["weights"] + f" ({kind})"})
        for kind, column in (("measured", "measured_var_lambda"),
                             ("theory", "theory_var_lambda"))], ignore_index=True)
    names = list(dict.fromkeys(long["weights"]))
    base = alt.Chart(long).encode(
        x=alt.X("depth:Q", title="depth L (hidden layers)", scale=alt.Scale(zero=True)),
        y=alt.Y("value:Q", title="Var λ, λ = s² (spread of the squared singular values)"),
        color=alt.Color("weights:N", title=None, scale=alt.Scale(
            domain=names, range=["#0072B2", "#D55E00"][:len(names)]),
            legend=alt.Legend(orient="top")),
        detail="series:N",
        tooltip=[alt.Tooltip("series:N"), alt.Tooltip("depth:Q"),
                 alt.Tooltip("value:Q", format=".4g", title="Var λ")])
    dash = alt.StrokeDash("kind:N", title=None, scale=alt.Scale(
        domain=["measured", "theory"], range=[[1, 0], [6, 4]]), legend=alt.Legend(
        orient="top", symbolType="stroke", symbolStrokeWidth=2, symbolStrokeColor="#555"))
    return alt.layer(base.mark_line(strokeWidth=2).encode(strokeDash=dash),
                     base.transform_filter(alt.datum.kind == "measured")
                     .mark_point(filled=True, size=60)).properties(
        title=heading(f"How the spectrum spreads with depth ({activation})",
                      "measured (solid) vs theory L·(μ₂/μ₁² − 1 + s)·mean² (dashed; s = 1 "
                      "Gaussian, 0 orthogonal; Pennington et al. 2017)"),
        height=420, width="container")


# --- Born dead ------------------------------------------------------------------------------
@remembered
def born_dead_chart(table: pd.DataFrame) -> alt.LayerChart:
    """Share of ReLU networks dead at initialization against width: measured (points,
    ±2 standard errors) and theory 1 − (1 − 2⁻ⁿ)ᴸ (dashed)."""
    data = table.assign(low=(table["measured_fraction"] - 2 * table["standard_error"])
                        .clip(lower=0), high=(table["measured_fraction"]
                                              + 2 * table["standard_error"]).clip(upper=1))
    depth, seeds = int(data["depth"].iloc[0]), int(data["seeds"].iloc[0])
    x = alt.X("width:Q", title="width n (units per hidden layer)",
              axis=alt.Axis(format="d", tickMinStep=1))
    y_axis = alt.Axis(format="%")
    tooltip = [alt.Tooltip("width:Q", title="width n"),
               alt.Tooltip("measured_fraction:Q", format=".1%", title="dead (measured)"),
               alt.Tooltip("dead_count:Q", title=f"dead of {seeds} networks"),
               alt.Tooltip("theory_fraction:Q", format=".2%", title="dead (theory)")]
    base = alt.Chart(data).encode(x=x, tooltip=tooltip)
    kinds = alt.Color("kind:N", title=None, scale=alt.Scale(
        domain=["measured (±2 standard errors)", "theory 1 − (1 − 2⁻ⁿ)ᴸ"],
        range=["#0072B2", "#D55E00"]), legend=alt.Legend(orient="top", labelLimit=400))
    theory_line = base.transform_calculate(kind="'theory 1 − (1 − 2⁻ⁿ)ᴸ'").mark_line(
        strokeDash=[6, 4], strokeWidth=2).encode(
        y=alt.Y("theory_fraction:Q", title="share of networks dead at the input",
                scale=alt.Scale(domain=[0, 1]), axis=y_axis), color=kinds)
    bars = base.mark_rule(color="#0072B2").encode(y=alt.Y("low:Q", axis=y_axis), y2="high:Q")
    points = base.transform_calculate(kind="'measured (±2 standard errors)'").mark_point(
        filled=True, size=70).encode(y=alt.Y("measured_fraction:Q", axis=y_axis),
                                     color=kinds)
    return alt.layer(theory_line, bars, points).properties(
        title=heading(f"Born dead: ReLU networks of depth {depth} dead before training",
                      f"{seeds} Keras-drawn networks per width, zero biases, one N(0, 1) "
                      "input each; dead: some layer outputs all zeros (Lu et al. 2019)"),
        height=420, width="container")
