"""Predict, then reveal: the class's answers as a histogram, and the measurement.

Pure Altair over core.challenges' tables (`tally`, `chart_data`).
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from .base import (LAYER_TITLE, PALETTE, STEP_TITLE, TIME_STEP_TITLE,
                   heading, log_chart, remembered)

RIGHT, OTHER = PALETTE[2], PALETTE[0]  # bluish green for the right answers
X_TITLES = {"layer": LAYER_TITLE, "step": STEP_TITLE}


@remembered
def answers_chart(counts: pd.DataFrame, title: str, decades: bool,
                  measured: float | None = None, guess: float | None = None,
                  height: int = 300) -> alt.Chart:
    """Bars of `counts` (core.challenges.tally: answer, position, count, right).

    `decades`: the x axis is decades (10^x) with a rule at the `measured` value; else
    one bar per choice in order. `guess`: the viewer's own answer, marked on the axis.
    Right answers are green once the answer is known (any row with right=True)."""
    known = bool(counts["right"].any())
    data = counts.assign(kind=[("right" if right else "other") if known else "answers"
                               for right in counts["right"]])
    colour = alt.Color("kind:N", title=None, legend=alt.Legend(orient="top") if known
                       else None,
                       scale=alt.Scale(domain=["right", "other"] if known else ["answers"],
                                       range=[RIGHT, "#999999"] if known else [OTHER]))
    top = max(int(data["count"].max()), 1)
    step = max(1, -(-top // 6))  # at most about 6 whole-number ticks
    y = alt.Y("count:Q", title="students", scale=alt.Scale(domain=[0, top]),
              axis=alt.Axis(values=list(range(0, top + step, step)), format="d"))
    if decades:
        x = alt.X("position:Q", title="answer: 10 to the power of (decades)",
                  axis=alt.Axis(format="d", tickMinStep=1),
                  scale=alt.Scale(domain=[float(data["position"].min()) - 0.5,
                                          float(data["position"].max()) + 0.5]))
    else:
        x = alt.X("answer:N", title=None, sort=list(data["answer"]),
                  axis=alt.Axis(labelAngle=0, labelLimit=160))
    bars = alt.Chart(data).mark_bar(**({"size": 14} if decades else {})).encode(
        x=x, y=y,
        color=colour,
        tooltip=[alt.Tooltip("answer:N"), alt.Tooltip("count:Q", title="students")])
    layers = [bars]
    marks = [(value, label, dash) for value, label, dash in
             ((measured, "measured", [1, 0]), (guess, "your answer", [6, 3]))
             if decades and value is not None]
    for value, label, dash in marks:
        rule = pd.DataFrame({"position": [float(value)], "label": [label]})
        base = alt.Chart(rule).encode(x=alt.X("position:Q"))
        layers += [base.mark_rule(color="#333333", strokeWidth=2, strokeDash=dash),
                   base.mark_text(align="left", dx=4, baseline="top", y=2,
                                  color="#333333").encode(text="label:N")]
    return alt.layer(*layers).properties(title=heading(title), height=height,
                                         width="container")


def measured_chart(challenge, measurement) -> alt.Chart:
    """The measurement behind a challenge's answer (core.challenges.chart_data): log
    charts for gradients (0, inf and nan marked), plain lines for fractions."""
    from ..challenges import READINGS, chart_data
    reading = READINGS[challenge.reading][2]
    data = chart_data(challenge, measurement)
    x_title = TIME_STEP_TITLE if challenge.reading == "time_decades" else X_TITLES[reading.x]
    subtitle = f"the answer: {reading.title}"
    if reading.log:
        return log_chart(data.rename(columns={"x": reading.x}), x=reading.x,
                         x_title=x_title, y_title=reading.y_title, title="Measured",
                         subtitle=subtitle, height=300)
    names = list(dict.fromkeys(data["series"]))
    return alt.Chart(data).mark_line(point=True, strokeWidth=2.5).encode(
        x=alt.X("x:Q", title=x_title),
        y=alt.Y("value:Q", title=reading.y_title, axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=names, range=PALETTE[:len(names)])),
        tooltip=[alt.Tooltip("series:N"), alt.Tooltip("x:Q", title=x_title),
                 alt.Tooltip("value:Q", format=".1%")],
    ).properties(title=heading("Measured", subtitle, width=50), height=300,
                 width="container")
