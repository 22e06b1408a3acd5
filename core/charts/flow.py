"""core.flow's tables drawn: per-layer and per-block gradient norms on a log axis, and
two architectures side by side. 0, inf and nan are pinned and marked (base.log_chart).
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .base import format_value, log_chart, long_format, remembered
FLOW_LAYER_TITLE = "layer with weights (1 = nearest the input)"
BLOCK_TITLE = "block (1 = nearest the input)"
NORM_TITLE = "gradient norm (log scale)"
SERIES = {"signal_grad_norm": "signal ‖dLoss/d layer output‖",
          "weight_grad_norm": "weight gradient ‖dLoss/d kernel‖"}


@remembered
def flow_chart(table: pd.DataFrame, title: str) -> alt.Chart:
    """Signal and weight-gradient norms of every layer with weights."""
    return log_chart(long_format(table, "index", SERIES), x="index",
                     x_title=FLOW_LAYER_TITLE, y_title=NORM_TITLE, title=title,
                     subtitle="one point per layer with weights; hover for the exact value")


@remembered
def block_chart(blocks: pd.DataFrame, title: str) -> alt.Chart:
    """The same per block: the signal at each block's first layer, the root sum of
    squares of its weight gradients (core.experiments.your_network.by_block)."""
    return log_chart(long_format(blocks, "block_number", SERIES), x="block_number",
                     x_title=BLOCK_TITLE, y_title=NORM_TITLE, title=title,
                     subtitle="signal at each block's first layer; weight gradient: root "
                              "sum of squares over the block's layers")


@remembered
def compare_chart(blocks: dict[str, pd.DataFrame], column: str, title: str) -> alt.Chart:
    """One line per architecture (label -> by_block table) for one column."""
    frames = [pd.DataFrame({"block_number": table["block_number"], "series": label,
                            "value": table[column]}) for label, table in blocks.items()]
    return log_chart(pd.concat(frames, ignore_index=True), x="block_number",
                     x_title=BLOCK_TITLE, y_title=SERIES[column], title=title)


@remembered
def flow_heatmap(table: pd.DataFrame, column: str = "signal_grad_norm",
                 title: str = "Gradient flow during training") -> alt.Chart:
    """core.GradientFlowCallback's table as layer (rows, 1 at the bottom) x recorded
    training step (columns), coloured by log10 of `column`; 0, inf and nan cells are
    drawn black and say so in their tooltip."""
    data = table[["step", "index", "name", column]].copy()
    values = data[column].to_numpy(dtype=float)
    good = np.isfinite(values) & (values > 0)
    data["log10"] = np.where(good, np.log10(np.where(good, values, 1.0)), np.nan)
    data["exact"] = [format_value(v) for v in values]
    base = alt.Chart(data).encode(
        x=alt.X("step:O", title="training step (recorded)"),
        y=alt.Y("index:O", title=FLOW_LAYER_TITLE, sort="descending"),
        tooltip=[alt.Tooltip("name:N", title="layer"), alt.Tooltip("step:O"),
                 alt.Tooltip("exact:N", title=SERIES.get(column, column))])
    cells = base.transform_filter("isValid(datum.log10)").mark_rect().encode(
        color=alt.Color("log10:Q", title=f"log10 {column}",
                        scale=alt.Scale(scheme="viridis")))
    broken = base.transform_filter("!isValid(datum.log10)").mark_rect(color="black")
    return alt.layer(cells, broken).properties(title=title, width="container")
