"""Activation functions and their slopes, as measured by Keras and tf.GradientTape."""
from __future__ import annotations

import altair as alt
import pandas as pd

from .base import colors, remembered
Y_TITLES = {"value": "φ(z)", "slope": "φ′(z)"}


@remembered
def activation_curves_chart(curves: pd.DataFrame, column: str = "value", *,
                            title: str | None = None,
                            subtitle: str = "computed by keras.activations and "
                                            "tf.GradientTape",
                            guide: float | None = None) -> alt.Chart:
    """phi(z) (column="value") or phi'(z) (column="slope") from
    core.activations.activation_curves, one colour per activation; `guide`: a dashed
    horizontal reference line (e.g. 0.25, sigmoid's peak slope)."""
    names = list(dict.fromkeys(curves["activation"]))
    y_title = Y_TITLES[column]
    chart = alt.Chart(curves).mark_line(strokeWidth=2).encode(
        x=alt.X("z:Q", title="pre-activation z"),
        y=alt.Y(f"{column}:Q", title=y_title),
        color=alt.Color("activation:N", title=None,
                        legend=alt.Legend(orient="bottom", columns=4),
                        scale=alt.Scale(domain=names, range=colors(len(names)))),
        tooltip=[alt.Tooltip("activation:N"), alt.Tooltip("z:Q", format=".2f"),
                 alt.Tooltip(f"{column}:Q", format=".4g", title=y_title)])
    if guide is not None:
        rule = alt.Chart(pd.DataFrame({"y": [guide]})).mark_rule(
            strokeDash=[4, 4], color="#555").encode(y="y:Q")
        chart = alt.layer(chart, rule)
    heading = title or ("Activations φ(z)" if column == "value" else "Their slopes φ′(z)")
    return chart.properties(title=alt.TitleParams(heading, subtitle=subtitle or [],
                                                  anchor="start"),
                            height=320, width="container")
