"""core.charts.through_time: log axes, the dashed theory line, integer step axes."""
import json

import numpy as np

from core import through_time as tt
from core.charts import base
from core.charts import through_time as charts
from core.experiments import through_time as experiments

SMALL = dict(steps=12, units=8, features=4, batch_size=4)


def x_axes(chart):
    return [layer["encoding"]["x"]["axis"] for layer in chart.to_dict()["layer"]
            if "x" in layer.get("encoding", {})]


def rows_of(chart):
    return next(iter(chart.to_dict()["datasets"].values()))


def test_charts_are_log_axes_with_theory_dashed():
    table = tt.through_time(tt.ThroughTimeSpec(activation="linear", gain=0.5, **SMALL))
    chart = charts.signal_through_time(table, title="t", radius=0.5,
                                       theory=tt.theory_line(table, 0.5)).to_dict()
    assert chart["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"
    assert "strokeDash" in json.dumps(chart)  # the theory line is dashed
    rows = next(iter(chart["datasets"].values()))
    assert any(row["series"] == "theory ρ^(T−t)·‖d(loss)/d(h_T)‖, ρ = 0.5" for row in rows)
    cells = charts.compare_cells(experiments.compare_cells(tt.ThroughTimeSpec(**SMALL)),
                                 title="c")
    assert {row["series"] for row in rows_of(cells)} == {"SimpleRNN", "LSTM", "GRU"}


def test_step_axes_have_integer_ticks_and_the_shared_titles():
    """Steps are whole numbers: no 1.5 tick on any of the page's charts."""
    spec = tt.ThroughTimeSpec(**SMALL)
    clip = experiments.train_clipping(experiments.ClippingSpec(train_steps=3))
    time_charts = (charts.signal_through_time(tt.through_time(spec), title="t"),
                   charts.compare_cells(experiments.compare_cells(spec), title="t"),
                   charts.forget_bias(experiments.forget_bias_sweep(spec), title="t"))
    training_charts = (charts.clipping_norms(clip, title="t"),
                       charts.clipping_losses(clip, title="t"))
    for chart in time_charts + training_charts:
        axes = x_axes(chart)
        assert axes and all(a.get("format") == "d" and a.get("tickMinStep") == 1
                            for a in axes)
    for chart, title in [(c, base.TIME_STEP_TITLE) for c in time_charts] + \
            [(c, base.STEP_TITLE) for c in training_charts]:
        assert all(layer["encoding"]["x"]["title"] == title
                   for layer in chart.to_dict()["layer"] if "x" in layer.get("encoding", {}))


def test_lstm_cell_state_gets_its_own_line():
    table = tt.through_time(tt.ThroughTimeSpec(cell="lstm", **SMALL))
    series = {row["series"] for row in rows_of(charts.signal_through_time(table, title="t"))}
    assert series == {"measured ‖d(loss)/d(h_t)‖",
                      "measured ‖d(loss)/d(c_t)‖ (LSTM cell state)"}


def test_the_theory_is_drawn_only_where_finite():
    """Gain 2, linear SimpleRNN: at T = 200 every gradient is nan, so no theory point is
    finite and the line stays out of the legend; at T = 100 it is drawn at every step."""
    long = tt.ThroughTimeSpec(activation="linear", gain=2.0, steps=200)
    table = tt.through_time(long)
    theory = tt.theory_line(table, table.attrs["spectral_radius"])
    spec = charts.signal_through_time(table, title="t", theory=theory, radius=2.0).to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert not any(row["series"].startswith("theory") for row in rows)  # not in legend
    assert "no theory line" in json.dumps(spec["title"])

    table = tt.through_time(long.replace(steps=100))
    theory = tt.theory_line(table, table.attrs["spectral_radius"])
    rows = rows_of(charts.signal_through_time(table, title="t", theory=theory, radius=2.0))
    drawn = [row for row in rows if row["series"].startswith("theory")]
    assert len(drawn) == 100 and all(row["status"] == "finite" for row in drawn)


def test_clipping_charts_split_before_and_after_only_where_clipping_acted():
    spec = experiments.ClippingSpec(sequence_length=8, units=8, gain=2.0, learning_rate=0.3,
                                    clip_norm=0.5, train_steps=15, batch_size=8)
    table = experiments.train_clipping(spec)
    series = {row["series"] for row in rows_of(charts.clipping_norms(table, title="n"))}
    assert series == {"without clipping", "clipped at 0.5: before clipping",
                      "clipped at 0.5: after clipping (applied)"}
    losses = {row["series"] for row in rows_of(charts.clipping_losses(table, title="l"))}
    assert losses == {"without clipping", "clipped at 0.5"}
    assert np.isfinite([row["plotted"] for row in rows_of(
        charts.clipping_losses(table, title="l"))]).all()
