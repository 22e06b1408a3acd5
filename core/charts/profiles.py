"""Per-layer profiles: one or several networks' tables (core.per_layer, with the theory
columns of core.theory.with_theory) drawn layer by layer, and activation histograms.

Pure Altair: each function takes DataFrames and returns a chart; tests check them with
`chart.to_dict()`.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from .base import LAYER_TITLE, colors, integer_axis, log_chart, long_format, remembered
def title_params(text: str, subtitle: str | None = None) -> alt.TitleParams:
    return alt.TitleParams(text, subtitle=subtitle or [], anchor="start")


@remembered
def histogram_chart(histograms: pd.DataFrame, title: str) -> alt.Chart:
    """Distribution of the outputs of every layer, one line per layer (their Fig. 3-4)."""
    return alt.Chart(histograms).mark_line(interpolate="step-after").encode(
        x=alt.X("bin_center:Q", title="activation value h"),
        y=alt.Y("fraction:Q", title="share of outputs", axis=alt.Axis(format="%")),
        color=alt.Color("layer:Q", title="layer", scale=alt.Scale(scheme="viridis"),
                        legend=alt.Legend(orient="right", gradientLength=120,
                                          format="d", tickMinStep=1)),
        detail="layer:O",
        tooltip=[alt.Tooltip("layer:O"), alt.Tooltip("bin_start:Q", format=".3f"),
                 alt.Tooltip("bin_end:Q", format=".3f"),
                 alt.Tooltip("fraction:Q", format=".2%", title="share")],
    ).properties(title=title_params(title, "outputs h_l of every layer, one line per layer"),
                 height=300, width="container")


# Solid, dashed, dotted...: lines that coincide (two inits at 0% saturation) stay visible.
DASHES = [[1, 0], [8, 4], [2, 3], [12, 3, 2, 3]]
SHAPES = ["circle", "square", "triangle-up", "diamond"]


@remembered
def by_init_chart(profiles: pd.DataFrame, column: str, title: str, y_title: str,
                  fraction: bool = False) -> alt.Chart:
    """One line per initialization, each with its own dash and point shape (so lines
    that coincide stay visible); `fraction` draws a 0-100% axis."""
    names = list(dict.fromkeys(profiles["init"]))
    y_scale = alt.Scale(domain=[0, 1]) if fraction else alt.Scale(zero=False)
    legend = alt.Legend(orient="bottom", symbolStrokeWidth=2, symbolSize=120)
    # Hollow markers: a square and a triangle drawn on the same spot both stay visible.
    point = alt.OverlayMarkDef(filled=False, fill="white", strokeWidth=1.5, size=60)
    return alt.Chart(profiles).mark_line(point=point, strokeWidth=2).encode(
        x=alt.X("layer:Q", axis=integer_axis(LAYER_TITLE)),
        y=alt.Y(f"{column}:Q", title=y_title, scale=y_scale,
                axis=alt.Axis(format="%" if fraction else "")),
        color=alt.Color("init:N", title=None, legend=legend,
                        scale=alt.Scale(domain=names, range=colors(len(names)))),
        strokeDash=alt.StrokeDash("init:N", title=None, legend=legend, scale=alt.Scale(
            domain=names, range=[DASHES[i % len(DASHES)] for i in range(len(names))])),
        shape=alt.Shape("init:N", title=None, legend=legend, scale=alt.Scale(
            domain=names, range=[SHAPES[i % len(SHAPES)] for i in range(len(names))])),
        tooltip=[alt.Tooltip("init:N"), alt.Tooltip("layer:Q"),
                 alt.Tooltip(f"{column}:Q", format=".2%" if fraction else ".4g",
                             title=y_title)],
    ).properties(title=title_params(title), height=360, width="container")


def measured_and_theory(profiles: pd.DataFrame, measured: str, theory: str | None,
                        label: str, group: str = "init") -> pd.DataFrame:
    """Long rows for log_chart: each group's measured column, then its theory column."""
    frames = []
    for name, rows in profiles.groupby(group, sort=False):
        frames.append(pd.DataFrame({"layer": rows["layer"], "series": f"{name}: {label}",
                                    "value": rows[measured], "kind": "measured"}))
        if theory and rows[theory].notna().any():
            frames.append(pd.DataFrame({"layer": rows["layer"],
                                        "series": f"{name}: theory",
                                        "value": rows[theory], "kind": "theory"}))
    return pd.concat(frames, ignore_index=True)


@remembered
def gain_chart(profiles: pd.DataFrame) -> alt.LayerChart:
    """Per-layer backward gain ||g_{l-1}|| / ||g_l||: the amplifier chain, one per init."""
    long = measured_and_theory(profiles.dropna(subset=["measured_gain"]), "measured_gain",
                               "theory_gain", "measured gain")
    chart = layer_chart(long, "gain ‖dLoss/dh_(l−1)‖ / ‖dLoss/dh_l‖",
                        "Each layer is an amplifier",
                        "backward gain through layer l (measured, solid) vs theory √χ_l "
                        "(dashed); 1 = the voice passes unchanged", height=420)
    return add_layers(chart, unit_rule())


def unit_rule() -> alt.Chart:
    """A horizontal rule at y = 1: a ratio or gain that neither shrinks nor grows."""
    return alt.Chart(pd.DataFrame({"y": [1.0]}), mark=alt.MarkDef(type="rule", color="#555"),
                     encoding=alt.FacetedEncoding(y=alt.Y("y:Q")))


def add_layers(chart: alt.LayerChart, *marks) -> alt.LayerChart:
    """Reference marks over a log_chart: added as its own last layers (each with its own
    data), not by layering the chart again, which would copy it whole."""
    chart.layer = list(chart.layer) + list(marks)
    return chart


def layer_chart(long: pd.DataFrame, y_title: str, title: str, subtitle: str | None = None,
                height: int = 320, dash: str | None = "kind",
                formats=("float32",)) -> alt.LayerChart:
    """log_chart of long rows (layer, series, value, kind) against the layer, with the
    limits of the number `formats` where the axis reaches them."""
    return log_chart(long, x="layer", x_title=LAYER_TITLE, y_title=y_title, title=title,
                     subtitle=subtitle, dash=dash, height=height, formats=formats)


# --- The problem: W = a * I ------------------------------------------------------------
@remembered
def identity_charts(data: dict[str, pd.DataFrame], formats=("float32",)) -> tuple:
    """(forward, backward) of core.experiments.problem.chart_data: measured vs exact,
    with the limits of the number `formats` (core.summary.FORMATS) the axes reach."""
    forward = layer_chart(data["forward"], "‖h_l‖ (L2 norm over the batch)",
                          "Forward signal",
                          "measured in Keras (solid) vs theory a^l·‖x‖ (dashed)",
                          formats=formats)
    backward = layer_chart(data["backward"], "‖dLoss/dh_l‖ (L2 norm)",
                           "Back-propagated signal",
                           "measured with tf.GradientTape (solid) vs theory "
                           "a^(L−l)·‖dLoss/dh_L‖ (dashed)", formats=formats)
    return forward, backward


@remembered
def gradients_chart(table: pd.DataFrame, title: str, formats=("float32",)) -> alt.LayerChart:
    """One network's back-propagated signal and weight gradient per layer."""
    long = long_format(table, "layer", {
        "signal_grad_norm": "back-propagated signal ‖dLoss/dh_l‖",
        "weight_grad_norm": "weight gradient ‖dLoss/dW_l‖"})
    return layer_chart(long, "L2 norm", title, "measured with tf.GradientTape", dash=None,
                       formats=formats)


# --- Why it happens ---------------------------------------------------------------------
@remembered
def signal_by_init_chart(profiles: pd.DataFrame) -> alt.LayerChart:
    """Glorot & Bengio's networks: the back-propagated signal per layer, one per init."""
    long = measured_and_theory(profiles, "signal_grad_norm", None, "signal ‖dL/dh_l‖")
    return layer_chart(long, "‖dLoss/dh_l‖ (L2 norm)", "Back-propagated signal per layer",
                       "measured with tf.GradientTape", height=360, dash=None)


@remembered
def variance_chart(table: pd.DataFrame, title: str) -> alt.LayerChart:
    """One network (a profile with theory columns and an `init` column): signal measured
    and theory, and the weight gradient."""
    init = table["init"].iloc[0]
    long = measured_and_theory(table, "signal_grad_norm", "theory_signal",
                               "signal ‖dL/dh_l‖")
    long = long.assign(series=long["series"].str.replace(f"{init}: ", ""))
    weight_rows = measured_and_theory(table, "weight_grad_norm", None,
                                      "weight gradient ‖dL/dW_l‖")
    long = pd.concat([long, weight_rows.assign(series="weight gradient ‖dL/dW_l‖")],
                     ignore_index=True)
    return layer_chart(long, "L2 norm", title, "measured in Keras (solid) vs mean-field "
                       "theory √χ products (dashed)", height=420)


# --- Initialization ---------------------------------------------------------------------
@remembered
def forward_std_chart(profiles: pd.DataFrame) -> alt.LayerChart:
    """Activation std per layer, one line per init, with mean-field theory dashed."""
    long = measured_and_theory(profiles, "activation_std", "theory_activation_std",
                               "measured")
    return layer_chart(long, "std of the layer's outputs h_l",
                       "Forward: activation std per layer",
                       "width 128, batch 128; dashed: mean-field theory", height=440)


@remembered
def backward_signal_chart(profiles: pd.DataFrame) -> alt.LayerChart:
    """Back-propagated signal per layer, one line per init, with theory dashed."""
    long = measured_and_theory(profiles, "signal_grad_norm", "theory_signal", "measured")
    return layer_chart(long, "‖dLoss/dh_l‖ (L2 norm)", "Backward: signal per layer",
                       "measured with tf.GradientTape; dashed: theory from the top "
                       "layer's value", height=440)
