"""Finite width: the seeds' fan of ln gain² per layer with theory's band, and the
spread against depth/width with theory's 5L/n line. Pure Altair, DataFrames in
(core.finite_width's tables).
"""
from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from .base import LAYER_TITLE, PALETTE, heading, integer_axis, remembered, spec_number
FAN_TITLE = "ln(‖h_l‖²/‖x‖²), natural log (0 = unchanged)"
EDGE_MARKS = {"dead (gain 0)": "triangle-down", "overflow (gain ∞, then nan)": "triangle-up"}
MEAN_NAME = "mean of the seeds"
BAND_NAME = "theory −5l/(2n) ± 2√(5l/n)"


def _edges(values: np.ndarray) -> tuple[float, float]:
    """The y domain: the finite values with some room (±1 if there are none)."""
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    room = max(0.08 * (high - low), 0.5)
    return spec_number(math.floor(low - room)), spec_number(math.ceil(high + room))


@remembered
def fan_chart(fan: pd.DataFrame, spread: pd.DataFrame, width: int,
              theory_note: str | None = None) -> alt.LayerChart:
    """One thin line per seed (ln gain² against layer), the seeds' mean, and theory's
    mean ± 2 standard deviations (where theory_note is None). A seed whose gain is 0
    (dead) or inf (overflow) is marked at the bottom or top edge where it happens."""
    values = fan["log_gain_sq"].to_numpy(dtype=np.float64)
    band = spread.assign(low=spread["theory_mean"] - 2 * np.sqrt(spread["theory_var"]),
                         high=spread["theory_mean"] + 2 * np.sqrt(spread["theory_var"]))
    covered = theory_note is None and band["theory_mean"].notna().all()
    edge_values = np.concatenate([values, band[["low", "high"]].to_numpy().ravel()]) \
        if covered else values
    low, high = _edges(edge_values)
    y_scale = alt.Scale(domain=[low, high], nice=False)
    lines_data = fan.assign(value=np.where(np.isfinite(values), values, np.nan))
    seeds = fan["seed"].nunique()
    x = alt.X("layer:Q", title=LAYER_TITLE, axis=integer_axis(),
              scale=alt.Scale(domain=[1, int(fan["layer"].max())], nice=False))
    lines = alt.Chart(lines_data).mark_line(strokeWidth=1, opacity=min(0.6, 12 / seeds),
                                            color=PALETTE[0]).encode(
        x=x, y=alt.Y("value:Q", title=FAN_TITLE, scale=y_scale), detail="seed:N",
        tooltip=[alt.Tooltip("seed:Q"), alt.Tooltip("layer:Q"),
                 alt.Tooltip("value:Q", format=".3f", title="ln gain²")])
    mean = alt.Chart(spread.assign(kind=MEAN_NAME)).mark_line(
        strokeWidth=3).encode(
        x=x, y=alt.Y("measured_mean:Q", scale=y_scale),
        color=alt.Color("kind:N", title=None, legend=alt.Legend(orient="top",
                                                                 labelLimit=400)),
        tooltip=[alt.Tooltip("layer:Q"), alt.Tooltip("measured_mean:Q", format=".3f",
                                                    title="mean ln gain² (measured)"),
                 alt.Tooltip("measured_var:Q", format=".3f",
                             title="variance over seeds (measured)")])
    layers = []
    if covered:
        theory = band.assign(kind=BAND_NAME)
        area = alt.Chart(theory).mark_area(opacity=0.18, color=PALETTE[3]).encode(
            x=x, y=alt.Y("low:Q", scale=y_scale), y2="high:Q")
        middle = alt.Chart(theory).mark_line(strokeDash=[6, 4], strokeWidth=2).encode(
            x=x, y=alt.Y("theory_mean:Q", scale=y_scale), color="kind:N",
            tooltip=[alt.Tooltip("layer:Q"),
                     alt.Tooltip("theory_mean:Q", format=".3f", title="theory mean"),
                     alt.Tooltip("theory_var:Q", format=".3f", title="theory variance")])
        layers += [area, middle]
        mean = mean.encode(color=alt.Color("kind:N", title=None, scale=alt.Scale(
            domain=[MEAN_NAME, BAND_NAME], range=["#333333", PALETTE[3]]),
            legend=alt.Legend(orient="top", labelLimit=400)))
    else:
        mean = mean.encode(color=alt.Color("kind:N", title=None, scale=alt.Scale(
            range=["#333333"]), legend=alt.Legend(orient="top", labelLimit=400)))
    layers += [lines, mean]
    marks = _edge_marks(fan, low, high)
    if len(marks):
        layers.append(alt.Chart(marks).mark_point(filled=True, size=90).encode(
            x=x, y=alt.Y("plotted:Q", scale=y_scale),
            shape=alt.Shape("status:N", title=None, scale=alt.Scale(
                domain=sorted(set(marks["status"])),
                range=[EDGE_MARKS[name] for name in sorted(set(marks["status"]))]),
                legend=alt.Legend(orient="top")),
            color=alt.value(PALETTE[3]),
            tooltip=[alt.Tooltip("seed:Q"), alt.Tooltip("layer:Q", title="from layer"),
                     alt.Tooltip("status:N")]))
    subtitle = (f"{seeds} Keras-drawn networks of width {width} (one line per seed), one "
                "input each. " + ("Band: Hanin & Rolnick 2018, first order in l/n."
                                  if covered else (theory_note or "No theory band.")))
    return alt.layer(*layers).properties(
        title=heading(f"One seed is not the whole story: {seeds} seeds, width {width}",
                      subtitle), height=420, width="container")


def _edge_marks(fan: pd.DataFrame, low: float, high: float) -> pd.DataFrame:
    """Each seed's first layer with gain 0, or inf or nan, pinned at the bottom or the
    top edge."""
    bad = fan[~np.isfinite(fan["log_gain_sq"])]
    first = bad.sort_values("layer").groupby("seed", as_index=False).first()
    dead = (first["log_gain_sq"] == -np.inf).to_numpy()
    return pd.DataFrame({
        "seed": first["seed"], "layer": first["layer"],
        "status": np.where(dead, list(EDGE_MARKS)[0], list(EDGE_MARKS)[1]),
        "plotted": np.where(dead, low, high).astype(float)})


@remembered
def spread_chart(spread: pd.DataFrame, chosen_width: int) -> alt.LayerChart:
    """Variance over seeds of ln gain² at every layer against l/n, one line per width
    (the chosen one thick), beside theory's 5·l/n (dashed; ReLU with He)."""
    data = spread.dropna(subset=["measured_var"]).assign(
        series=lambda t: "width " + t["width"].astype(str),
        thick=lambda t: np.where(t["width"] == chosen_width, 3.5, 1.5))
    widths = sorted(data["width"].unique())
    names = [f"width {w}" for w in widths]
    x = alt.X("layers_per_width:Q", title="depth / width, l/n (layers per unit of width)",
              scale=alt.Scale(zero=True))
    lines = alt.Chart(data).mark_line(point=True).encode(
        x=x, y=alt.Y("measured_var:Q", title="Var ln(‖h_l‖²/‖x‖²) over seeds (nats²)",
                     scale=alt.Scale(zero=True)),
        color=alt.Color("series:N", title=None, sort=names, scale=alt.Scale(
            domain=names, range=PALETTE[:len(names)]), legend=alt.Legend(orient="top")),
        strokeWidth=alt.StrokeWidth("thick:Q", legend=None),
        detail="series:N",
        tooltip=[alt.Tooltip("width:Q", title="width n"), alt.Tooltip("layer:Q"),
                 alt.Tooltip("layers_per_width:Q", format=".3g", title="l/n"),
                 alt.Tooltip("measured_var:Q", format=".3f", title="variance (measured)"),
                 alt.Tooltip("theory_var:Q", format=".3f", title="5l/n (theory)"),
                 alt.Tooltip("dead_seeds:Q", title="seeds dead by this layer")])
    layers = [lines]
    if data["theory_var"].notna().any():
        top = spec_number(float(data["layers_per_width"].max()))
        theory = pd.DataFrame({"layers_per_width": [0.0, top], "theory_var": [0.0, 5 * top],
                               "kind": "theory 5·l/n (Hanin & Rolnick 2018)"})
        layers.insert(0, alt.Chart(theory).mark_line(strokeDash=[6, 4], strokeWidth=2,
                                                     color="#333333").encode(
            x=x, y="theory_var:Q", tooltip=[alt.Tooltip("kind:N", title="theory")]))
    return alt.layer(*layers).properties(
        title=heading("Wide and shallow is predictable; deep and narrow is a lottery",
                      f"spread over {int(spread['depth'].iloc[0])} layers at each width; "
                      "dashed: theory 5·l/n, first order in l/n; dead seeds (gain 0) left "
                      "out"), height=420, width="container")
