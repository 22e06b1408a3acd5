"""Chart builders for the "Why it happens" and "Initialization" pages (pure Altair).

Each takes a DataFrame from core.theory / core.initialization and returns an alt.Chart;
none imports streamlit, so tests check them with `chart.to_dict()`.
"""
from __future__ import annotations


import altair as alt
import numpy as np
import pandas as pd

from .base import PALETTE, format_value, log_chart

LAYER_TITLE = "hidden layer l (1 = nearest the input)"


def _title(text: str, subtitle: str | None = None) -> alt.TitleParams:
    return alt.TitleParams(text, subtitle=subtitle or [], anchor="start")


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
    ).properties(title=_title(title, "outputs h_l of every layer, one line per layer"),
                 height=300, width="container")


# Solid, dashed, dotted...: lines that coincide (two inits at 0% saturation) stay visible.
DASHES = [[1, 0], [8, 4], [2, 3], [12, 3, 2, 3]]
SHAPES = ["circle", "square", "triangle-up", "diamond"]


def integer_axis(title: str) -> alt.Axis:
    """A layer or step axis: whole-number ticks only (no 1.5)."""
    return alt.Axis(title=title, format="d", tickMinStep=1)


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
                        scale=alt.Scale(domain=names, range=PALETTE[:len(names)])),
        strokeDash=alt.StrokeDash("init:N", title=None, legend=legend, scale=alt.Scale(
            domain=names, range=[DASHES[i % len(DASHES)] for i in range(len(names))])),
        shape=alt.Shape("init:N", title=None, legend=legend, scale=alt.Scale(
            domain=names, range=[SHAPES[i % len(SHAPES)] for i in range(len(names))])),
        tooltip=[alt.Tooltip("init:N"), alt.Tooltip("layer:Q"),
                 alt.Tooltip(f"{column}:Q", format=".2%" if fraction else ".4g",
                             title=y_title)],
    ).properties(title=_title(title), height=360, width="container")


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
        title=_title("Signal ratio ‖dLoss/dh_1‖ / ‖dLoss/dh_L‖ (log10), measured",
                     f"0 = healthy; negative = vanishing, positive = exploding; colour "
                     f"clipped at ±{clip:g}; grey cells: 0, inf or nan as labelled"),
        height=360, width="container")


def sweep_chart(rows: pd.DataFrame, edges: dict[str, float | None], depth: int):
    """Signal ratio vs sigma_w: measured points, theory curve, the edge of chaos marked."""
    long = pd.DataFrame({
        "sigma_w": rows["sigma_w"],
        "series": rows["activation"] + np.where(rows["kind"] == "theory", " (theory)",
                                                " (measured)"),
        "value": rows["ratio"], "kind": rows["kind"]})
    chart = log_chart(long, x="sigma_w", x_title="weight scale σ_w (W ~ N(0, σ_w²/n))",
                      y_title="signal ratio layer 1 / layer L", series="series",
                      dash="kind", title=f"The Goldilocks zone at depth {depth}",
                      subtitle="below 1: vanishing; above 1: exploding; vertical lines: "
                               "theory's edge of chaos (χ = 1)", height=440)
    marks = pd.DataFrame([{"sigma_w": v, "edge": f"{name}: σ_w = {v:.3g}"}
                          for name, v in edges.items() if v])
    one = alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(color="#555").encode(y="y:Q")
    if marks.empty:
        return _lift_title(chart, one)
    rules = alt.Chart(marks).mark_rule(strokeDash=[2, 2], color="#555").encode(
        x="sigma_w:Q", tooltip=[alt.Tooltip("edge:N", title="edge of chaos (theory)")])
    return _lift_title(chart, one, rules)


def gain_chart(profiles: pd.DataFrame) -> alt.LayerChart:
    """Per-layer backward gain ||g_{l-1}|| / ||g_l||: the amplifier chain, one per init."""
    long = measured_and_theory(profiles.dropna(subset=["measured_gain"]), "measured_gain",
                               "theory_gain", "measured gain")
    chart = log_chart(long, x="layer", x_title=LAYER_TITLE,
                      y_title="gain ‖dLoss/dh_(l−1)‖ / ‖dLoss/dh_l‖", dash="kind",
                      title="Each layer is an amplifier",
                      subtitle="backward gain through layer l (measured, solid) vs "
                               "theory √χ_l (dashed); 1 = the voice passes unchanged",
                      height=420)
    one = alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(color="#555").encode(y="y:Q")
    return _lift_title(chart, one)


def _lift_title(chart: alt.LayerChart, *extra) -> alt.LayerChart:
    """Layer reference marks over a log_chart, keeping its title on the outer chart."""
    title, height = chart.title, chart.height
    chart.title = alt.Undefined
    return alt.layer(chart, *extra).properties(title=title, height=height,
                                               width="container")
