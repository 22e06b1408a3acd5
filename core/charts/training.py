"""Charts of training runs: pure functions from core.train tables to Altair charts.

Tables are long (one row per step x layer). Long runs are binned to at most
`MAX_COLUMNS` steps for heatmaps (the mean over each bin, and the bin's last step).
Values that a log axis cannot show (0, inf, nan) are kept visible, as in core.charts.
"""
from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from .base import (FLOAT_TINY, LAYER_SHORT_TITLE, LAYER_TITLE, STATUS_SHAPES, STEP_TITLE,
                   colors, integer_axis, pin_for_log, remembered, spec_number)

MAX_COLUMNS = 150
# Loss charts: a diverged run's loss (1e14, 1e35...) would flatten every other run at
# the bottom. The y axis stops at LOSS_CAP_FACTOR x the largest initial loss (rounded up
# to a power of ten); a loss above that is a marker at the top edge with its exact value.
LOSS_CAP_FACTOR = 1e3
ABOVE = "above the axis (exact value in the tooltip)"


def legend_height(entries: int, at_least: int) -> int:
    """A chart height with room for a right-hand legend of `entries` runs.

    Streamlit fits the whole chart, legends included, into its height: a legend taller
    than the plot is cut off (measured in the app: about 30 px per entry, starting some
    70 px below the top of a titled chart).
    """
    return max(at_least, 100 + 30 * entries)


def bin_steps(table: pd.DataFrame, columns, max_steps: int = MAX_COLUMNS) -> pd.DataFrame:
    """Mean of `columns` over bins of consecutive steps, per layer (nan/inf propagate)."""
    steps = int(table["step"].max()) if len(table) else 0
    width = max(1, math.ceil(steps / max_steps))
    data = table[["step", "layer", *columns]].copy()
    data["bin"] = (data["step"] - 1) // width
    binned = data.groupby(["bin", "layer"], as_index=False).agg(
        step_start=("step", "min"), step=("step", "max"),
        **{column: (column, lambda values: float(np.mean(values.to_numpy(np.float64))))
           for column in columns})
    binned["step_start"] = binned["step_start"] - 0.5
    binned["step_end"] = binned["step"] + 0.5
    return binned


def _heatmap_cells(table: pd.DataFrame, column: str, log10: bool) -> pd.DataFrame:
    """The binned cells of a heatmap with `shown`: the colour value (nan: not drawable)."""
    data = bin_steps(table, [column])
    values = data[column].to_numpy(np.float64)
    if log10:
        bad = ~np.isfinite(values) | (values <= 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            data["shown"] = np.where(bad, np.nan, np.log10(np.where(bad, 1.0, values)))
    else:
        bad = ~np.isfinite(values)
        data["shown"] = np.where(bad, np.nan, values)
    return data


def shared_domain(tables, column: str, log10: bool = False) -> list | None:
    """One colour domain [low, high] for heatmaps of several runs shown side by side.

    Computed from the cells every table's heatmap draws, finite values only (0, inf and
    nan cells stay black). None if no cell is finite.
    """
    shown = np.concatenate([_heatmap_cells(table, column, log10)["shown"].to_numpy(
        np.float64) for table in tables] or [np.array([])])
    shown = shown[np.isfinite(shown)]
    if not shown.size:
        return None
    low, high = float(shown.min()), float(shown.max())
    return [low, high] if high > low else [low - 0.5, high + 0.5]


@remembered
def layer_step_heatmap(table: pd.DataFrame, column: str, *, title: str, legend: str,
                       log10: bool = False, domain=None, scheme: str = "viridis",
                       subtitle: str | list[str] | None = None,
                       height: int | None = None) -> alt.Chart:
    """Layers (rows, layer 1 at the bottom) x steps (columns), coloured by `column`.

    height: pixels per layer row (a band step: a fixed chart height squashes the rows).

    With log10, the colour is log10(value); cells whose value is 0, inf or nan are drawn
    black and say so in their tooltip instead of disappearing.
    """
    data = _heatmap_cells(table, column, log10)
    values = data[column].to_numpy(np.float64)
    data["status"] = np.where(np.isnan(values), "not a number (nan)",
                              np.where(np.isinf(values), "overflow (inf)",
                                       np.where(values == 0, "zero", "finite")))
    data["exact"] = [f"{v:.4g}" for v in values]
    depth = int(data["layer"].max()) if len(data) else 1
    x = alt.X("step_start:Q", title=STEP_TITLE, scale=alt.Scale(nice=False),
              axis=integer_axis())
    y = alt.Y("layer:O", title=LAYER_SHORT_TITLE, sort="descending")
    tooltip = [alt.Tooltip("layer:O"), alt.Tooltip("step:Q", title="up to step"),
               alt.Tooltip("exact:N", title=column), alt.Tooltip("status:N")]
    scale = alt.Scale(scheme=scheme, domain=domain) if domain else alt.Scale(scheme=scheme)
    finite = alt.Chart(data).transform_filter(alt.datum.status == "finite" if log10 else
                                              "isFinite(datum.shown)").mark_rect().encode(
        x=x, x2="step_end:Q", y=y,
        color=alt.Color("shown:Q", title=legend, scale=scale,
                        legend=alt.Legend(orient="right")),
        tooltip=tooltip)
    marked = alt.Chart(data).transform_filter(
        "!isFinite(datum.shown)").mark_rect(color="#000000").encode(
        x=x, x2="step_end:Q", y=y, tooltip=tooltip)
    return (finite + marked).properties(
        title=alt.TitleParams(title, subtitle=subtitle or [], anchor="start"),
        height=alt.Step(height or (20 if depth <= 12 else 14)), width="container")


SHARE_OVERLAP = 0.5  # share one colour scale when the ranges overlap this much


def paired_domains(tables, column: str, log10: bool = False) -> tuple[list, bool]:
    """Colour domains for heatmaps of runs shown side by side, and whether they share one.

    They share one scale (one colour is one value: the comparison is the point) when the
    runs' ranges overlap by at least SHARE_OVERLAP of the narrower range. Otherwise a
    shared scale would squeeze one run into a single flat colour: each keeps its own.
    """
    own = [shared_domain([table], column, log10) for table in tables]
    if len(own) < 2 or any(domain is None for domain in own):
        return [shared_domain(tables, column, log10)] * len(own), True
    overlap = min(high for _, high in own) - max(low for low, _ in own)
    narrowest = min(high - low for low, high in own)
    if overlap >= SHARE_OVERLAP * narrowest:
        return [shared_domain(tables, column, log10)] * len(own), True
    return own, False


@remembered
def weight_gradient_pair(tables: dict, labels) -> list[tuple]:
    """(log10 weight-gradient heatmap, update-to-weight ratio) of each run in `labels`.

    The heatmaps share one colour scale where their values overlap (paired_domains);
    each subtitle says whether the scale is shared or the run's own."""
    domains, shared = paired_domains([tables[label] for label in labels],
                                     "weight_grad_norm", log10=True)
    if shared:
        note = ["same colour scale in both, so one colour is one value;"]
    else:
        spans = " and ".join(f"1e{low:.0f} to 1e{high:.0f}" for low, high in domains)
        note = [f"own colour scale: the runs span {spans},",
                "one scale would flatten one of them; compare the legends;"]
    return [(layer_step_heatmap(tables[label], "weight_grad_norm",
                                title=f"log10 ‖dLoss/dW_l‖: {label}",
                                legend="log10 weight gradient" if shared else
                                "log10 weight gradient (this run)", log10=True,
                                scheme="viridis", domain=domain,
                                subtitle=note + ["black: 0, inf or nan"]),
             update_ratio_chart(tables[label], f"Update-to-weight ratio: {label}"))
            for label, domain in zip(labels, domains)]


def per_step(tables: dict, column: str) -> pd.DataFrame:
    """Long (step, series, value) of a step-level column for several runs."""
    frames = []
    for label, table in tables.items():
        steps = table.groupby("step", as_index=False)[column].first()
        frames.append(pd.DataFrame({"step": steps["step"], "series": label,
                                    "value": steps[column].astype(np.float64)}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["step", "series", "value"])


def thin(long: pd.DataFrame, max_points: int = 300) -> pd.DataFrame:
    """Keep at most ~max_points steps per series (every k-th step, and the last)."""
    steps = long["step"].to_numpy()
    top = int(steps.max()) if len(steps) else 0
    every = max(1, math.ceil(top / max_points))
    return long[(steps % every == 0) | (steps == top) | (steps == 1)]


def runs_log_chart(long: pd.DataFrame, *, title: str, y_title: str,
                   subtitle: str | None = None, height: int = 300, x: str = "step",
                   x_title: str = STEP_TITLE, cap: float | None = None) -> alt.Chart:
    """One line per run over the steps on a log axis; 0/inf/nan pinned to an edge and
    drawn as a large marker (triangle down: 0, triangle up: inf, diamond: nan).

    cap: the top of the y axis. A finite value above it is drawn as a triangle at the
    top edge (status ABOVE, its exact value in the tooltip) instead of stretching the
    axis; the line stops there.
    """
    data, domain = pin_for_log(long)
    shapes = dict(STATUS_SHAPES)
    if cap is not None and domain[1] > cap:
        above = (data["status"] == "finite") & (data["plotted"] > cap)
        data.loc[above, "status"] = ABOVE
        data["plotted"] = np.minimum(data["plotted"], cap)
        domain = [spec_number(min(domain[0], cap / 10), FLOAT_TINY), cap]
        shapes[ABOVE] = "triangle-up"
    names = list(dict.fromkeys(data["series"]))
    color = alt.Color("series:N", title=None,
                      scale=alt.Scale(domain=names, range=colors(len(names))),
                      legend=alt.Legend(orient="right", labelLimit=320))
    y = alt.Y("plotted:Q", title=y_title,
              scale=alt.Scale(type="log", domain=domain, clamp=True),
              axis=alt.Axis(format=".0e"))
    tooltip = [alt.Tooltip("series:N", title="run"), alt.Tooltip(f"{x}:Q"),
               alt.Tooltip("exact:N", title=y_title), alt.Tooltip("status:N")]
    base = alt.Chart(data).encode(x=alt.X(f"{x}:Q", title=x_title, axis=integer_axis()),
                                  y=y, color=color, tooltip=tooltip)
    lines = base.transform_filter(alt.datum.status == "finite").mark_line(strokeWidth=2)
    marks = base.transform_filter(alt.datum.status != "finite").mark_point(
        filled=True, size=120, opacity=1).encode(
        shape=alt.Shape("status:N", scale=alt.Scale(domain=list(shapes),
                                                    range=list(shapes.values())),
                        legend=None))
    return (lines + marks).properties(
        title=alt.TitleParams(title, subtitle=subtitle or [], anchor="start"),
        height=legend_height(len(names), height), width="container")


def loss_cap(tables: dict, factor: float = LOSS_CAP_FACTOR) -> float | None:
    """factor x the largest finite step-1 loss, rounded up to a power of ten."""
    first = [float(table.loc[table["step"] == 1, "loss"].iloc[0]) for table in
             tables.values() if len(table)]
    first = [value for value in first if math.isfinite(value) and value > 0]
    if not first:
        return None
    # log10 of the product as a sum: factor x a huge loss may overflow to inf.
    return spec_number(10 ** math.ceil(math.log10(factor) + math.log10(max(first))),
                       FLOAT_TINY)


@remembered
def loss_chart(tables: dict, title: str = "Training loss (cross-entropy of each batch)"
               ) -> alt.Chart:
    cap = loss_cap(tables)
    long = thin(per_step(tables, "loss"))
    subtitle = ["measured at every step; a nan or inf loss is a marker at the top edge"]
    values = long["value"].to_numpy(np.float64)
    if cap is not None and (np.isfinite(values) & (values > cap)).any():
        subtitle.append(f"▲ at the top edge: a loss above {cap:.0e} (over "
                        f"{LOSS_CAP_FACTOR:.0e} x the initial loss); hover for its value")
    return runs_log_chart(long, title=title, y_title="loss (log scale)",
                          subtitle=subtitle, cap=cap)


@remembered
def accuracy_chart(tables: dict, column: str = "test_accuracy",
                   title: str = "Accuracy on the held-out test set") -> alt.Chart:
    data = per_step(tables, column).dropna()
    names = list(tables)
    return alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("step:Q", title=STEP_TITLE, axis=integer_axis()),
        y=alt.Y("value:Q", title="accuracy", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%")),
        color=alt.Color("series:N", title=None,
                        scale=alt.Scale(domain=names, range=colors(len(names))),
                        legend=alt.Legend(orient="right", labelLimit=320)),
        tooltip=[alt.Tooltip("series:N", title="run"), alt.Tooltip("step:Q"),
                 alt.Tooltip("value:Q", format=".1%", title="accuracy")],
    ).properties(title=alt.TitleParams(title, anchor="start"),
                 height=legend_height(len(names), 260), width="container")


def layer_lines(table: pd.DataFrame, column: str, *, title: str, y_title: str,
                log: bool = True, guide: float | None = None, guide_label: str = "",
                subtitle: str | None = None, max_points: int = 300) -> alt.Chart:
    """One line per hidden layer over the steps (colour: layer, viridis)."""
    data = thin(table[["step", "layer", column]].rename(columns={column: "value"}),
                max_points)
    tooltip = [alt.Tooltip("layer:Q"), alt.Tooltip("step:Q")]
    color = alt.Color("layer:Q", title="layer", scale=alt.Scale(scheme="viridis"),
                      legend=alt.Legend(orient="right", format="d", gradientLength=120))
    detail = alt.Detail("layer:N")
    if log:
        data, domain = pin_for_log(data)
        if guide is not None:
            domain = [spec_number(min(domain[0], guide / 10), FLOAT_TINY),
                      spec_number(max(domain[1], guide * 10))]
        y = alt.Y("plotted:Q", title=y_title, scale=alt.Scale(type="log", domain=domain,
                                                              clamp=True),
                  axis=alt.Axis(format=".0e"))
        tooltip += [alt.Tooltip("exact:N", title=y_title), alt.Tooltip("status:N")]
        lines = alt.Chart(data).transform_filter(alt.datum.status == "finite").mark_line(
            strokeWidth=1.5).encode(x=alt.X("step:Q", title=STEP_TITLE,
                                            axis=integer_axis()), y=y,
                                    color=color, detail=detail, tooltip=tooltip)
        # Only the statuses that occur get a legend entry, below the plot with room
        # for every label (a legend at the right ran out of height and was cut off).
        present = [status for status in STATUS_SHAPES
                   if status != "finite" and status in set(data["status"])]
        marks = alt.Chart(data).transform_filter(alt.datum.status != "finite").mark_point(
            filled=True, size=60).encode(
            x="step:Q", y=y, color=color, tooltip=tooltip,
            shape=alt.Shape("status:N", title="value",
                            scale=alt.Scale(domain=present or ["finite"],
                                            range=[STATUS_SHAPES[s] for s in present]
                                            or ["circle"]),
                            legend=alt.Legend(orient="bottom", columns=2, labelLimit=0)
                            if present else None))
        chart = lines + marks
        legend_rows = math.ceil(len(present) / 2)
    else:
        y = alt.Y("value:Q", title=y_title)
        tooltip.append(alt.Tooltip("value:Q", format=".4g", title=y_title))
        chart = alt.Chart(data).mark_line(strokeWidth=1.5).encode(
            x=alt.X("step:Q", title=STEP_TITLE, axis=integer_axis()), y=y,
            color=color, detail=detail, tooltip=tooltip)
        legend_rows = 0
    if guide is not None:
        field = "plotted" if log else "value"
        rule = alt.Chart(pd.DataFrame({field: [guide], "label": [guide_label]})).mark_rule(
            strokeDash=[6, 4], color="#D55E00").encode(
            y=alt.Y(f"{field}:Q"), tooltip=alt.Tooltip("label:N", title="guide"))
        chart = chart + rule
    # The chart's height includes a bottom legend: add room for its rows.
    return chart.properties(title=alt.TitleParams(title, subtitle=subtitle or [],
                                                  anchor="start"),
                            height=280 + (45 + 25 * legend_rows if legend_rows else 0),
                            width="container")


@remembered
def update_ratio_chart(table: pd.DataFrame, title: str) -> alt.Chart:
    return layer_lines(table, "update_ratio", title=title,
                       y_title="‖ΔW‖ / ‖W‖ per step (log)", guide=1e-3,
                       guide_label="1e-3: a common rule of thumb for a healthy rate",
                       subtitle="update-to-weight ratio of each layer's kernel; dashed: "
                                "1e-3 guide line")


@remembered
def clipping_chart(tables: dict, learning_rate: float) -> alt.Chart:
    """Global gradient norm before clipping vs the norm actually applied (plain SGD)."""
    frames = []
    for label, table in tables.items():
        before = per_step({label: table}, "global_grad_norm")
        before["series"] = f"{label}: before clipping"
        after = per_step({label: table}, "global_update_norm")
        after["value"] = after["value"] / learning_rate
        after["series"] = f"{label}: applied (update / learning rate)"
        frames += [before, after]
    return runs_log_chart(thin(pd.concat(frames, ignore_index=True)),
                          y_title="gradient norm over all weights",
                          title="Gradient norm before clipping and as applied",
                          subtitle="plain SGD: the update is learning rate x the clipped "
                                   "gradient, so update / learning rate is its norm")


@remembered
def first_step_profile(tables: dict, column: str, *, title: str, y_title: str
                       ) -> alt.Chart:
    """A per-layer column at step 1 (the network at initialization), per run."""
    frames = [pd.DataFrame({"layer": t.loc[t["step"] == 1, "layer"], "series": label,
                            "value": t.loc[t["step"] == 1, column].astype(np.float64)})
              for label, t in tables.items()]
    return runs_log_chart(pd.concat(frames, ignore_index=True), x="layer",
                          x_title=LAYER_TITLE, y_title=y_title, title=title,
                          subtitle="measured at step 1, before its update")


@remembered
def weight_norm_chart(tables: dict) -> alt.Chart:
    """sqrt(sum over layers of ‖W_l‖²): the size of all hidden kernels, per step."""
    frames = []
    for label, table in tables.items():
        # A plain numpy sum: pandas' sum would skip nan and turn a diverged step into 0.
        total = table.assign(square=table["weight_norm"].astype(np.float64) ** 2).groupby(
            "step", as_index=False)["square"].agg(lambda v: float(np.sum(v.to_numpy())))
        frames.append(pd.DataFrame({"step": total["step"], "series": label,
                                    "value": np.sqrt(total["square"])}))
    return runs_log_chart(thin(pd.concat(frames, ignore_index=True)),
                          y_title="‖all hidden kernels‖", title="Weight norm over training",
                          subtitle="L2 norm of every hidden layer's kernel together")


@remembered
def activation_mean_chart(table: pd.DataFrame, title: str) -> alt.Chart:
    """Mean output of each hidden layer over training (Glorot & Bengio's Figure 2)."""
    return layer_lines(table, "activation_mean", title=title, log=False,
                       y_title="mean activation",
                       subtitle="mean output of each hidden layer over the training "
                                "batch", max_points=400)


@remembered
def init_profile_chart(profiles: dict, column: str = "signal_grad_norm") -> alt.Chart:
    """Per-layer profiles (core.per_layer tables) of several networks, before training."""
    frames = [pd.DataFrame({"layer": table["layer"], "series": label,
                            "value": table[column].astype(np.float64)})
              for label, table in profiles.items()]
    return runs_log_chart(pd.concat(frames, ignore_index=True), x="layer",
                          x_title=LAYER_TITLE, y_title="‖dLoss/dh_l‖",
                          title="Before training: the back-propagated signal at "
                                "initialization",
                          subtitle="core.per_layer: one forward and backward pass on N(0, 1) "
                                   "inputs (no training, no clipping)")
