"""core.experiments.through_time: cells compared, forget bias, clipping, diagnosis, page view."""
import math

import numpy as np
import pandas as pd
import pytest

from core import through_time as tt
from core.experiments import through_time as experiments
from core.summary import summarize

SMALL = dict(steps=12, units=8, features=4, batch_size=4)


def test_lstm_step_one_signal_grows_with_forget_bias():
    spec = tt.ThroughTimeSpec(cell="lstm", steps=50)
    sweep = experiments.forget_bias_sweep(spec)
    first = sweep[sweep["step"] == 1].set_index("forget_bias")["signal_grad_norm"]
    assert list(first.index) == [0.0, 1.0, 3.0, 5.0]
    assert np.all(np.diff(first.to_numpy()) > 0), first
    ratios = list(experiments.step_ratios(sweep, "forget_bias").values())
    assert ratios[0] < 1e-9 < ratios[1] < 1e-3 < 0.01 < ratios[2] < ratios[3]


def test_compare_cells_is_the_engine_at_each_cell():
    spec = tt.ThroughTimeSpec(**SMALL)
    cells = experiments.compare_cells(spec)
    assert list(dict.fromkeys(cells["cell"])) == ["SimpleRNN", "LSTM", "GRU"]
    gru = cells[cells["cell"] == "GRU"]["signal_grad_norm"].to_numpy()
    np.testing.assert_array_equal(gru, tt.through_time(spec.replace(cell="gru"))
                                  ["signal_grad_norm"].to_numpy())


def test_measure_is_the_pages_one_call_and_uses_core_summary():
    spec = tt.ThroughTimeSpec(activation="linear", gain=0.9, **SMALL)
    result = experiments.measure(spec)
    table = result["table"]
    summary = summarize(table, position="step", forward="state_norm")
    assert result["summary"]["ratio"] == summary["ratio"] == pytest.approx(0.9 ** 11)
    assert result["summary"]["verdict"] == summary["verdict"] == "healthy"
    assert result["metrics"][0] == ("Gradient ratio step 1 / step T", "0.314",
                                    "‖d(loss)/d(h_1)‖ / ‖d(loss)/d(h_T)‖")
    assert result["metrics"][1][1] == "Healthy"
    np.testing.assert_allclose(result["theory"], tt.theory_line(table, 0.9), rtol=1e-6)
    assert result["title"] == ("Gradient through time: SimpleRNN, linear, orthogonal, "
                               "T = 12, 8 units")
    assert result["cells_sentence"].startswith("Measured ratio step 1 / step T: **SimpleRNN** ")
    assert "bias **0** → " in result["biases_sentence"]
    assert experiments.measure(spec.replace(cell="lstm"))["theory"] is None  # linear cells only
    # cached once, in core.cache, and every caller gets its own copy
    assert experiments.measure.contains(spec)
    result["table"].loc[0, "signal_grad_norm"] = -1.0
    result["attrs"]["loss"] = -1.0
    again = experiments.measure(spec)
    assert again["table"].loc[0, "signal_grad_norm"] > 0 and again["attrs"]["loss"] > 0


def test_clipping_caps_the_norm_and_counts_clipped_steps():
    spec = experiments.ClippingSpec(sequence_length=8, units=8, gain=2.0, learning_rate=0.3,
                                    clip_norm=0.5, train_steps=15, batch_size=8)
    calls = []
    table = experiments.train_clipping(spec, on_step=lambda done, total:
                                       calls.append((done, total)))
    assert calls[-1] == (30, 30)
    clipped_run = table[table["run"] == "clipped at 0.5"]
    free_run = table[table["run"] == "without clipping"]
    assert (clipped_run["grad_norm_after"] <= 0.5 * (1 + 1e-5)).all()
    assert not free_run["clipped"].any()
    first = table.groupby("run", sort=False)["grad_norm_before"].first()
    assert first.iloc[0] == pytest.approx(first.iloc[1])  # same start, same batch
    summary = experiments.clipping_summary(table).set_index("run")
    assert summary.loc["clipped at 0.5", "clipped_fraction"] == clipped_run["clipped"].mean()
    report = experiments.clipping_report(spec, table)
    assert report["summary"].equals(experiments.clipping_summary(table))
    assert [run["label"] for run in report["runs"]] == ["without clipping: final loss",
                                                        "clipped at 0.5: final loss"]
    assert report["runs"][1]["text"].startswith("Steps clipped: **")
    assert report["caption"] == ("Results for gain 2, learning rate 0.3, threshold 0.5, "
                                 "15 steps, 8 units, sequences of 8.")


def test_clipping_report_names_the_overflow():
    table = pd.DataFrame({"run": ["without clipping"] * 2, "step": [1, 2],
                          "loss": [1.0, math.nan], "grad_norm_before": [3.5e12, math.inf],
                          "grad_norm_after": [3.5e12, math.inf], "clipped": [False, False]})
    [run] = experiments.clipping_report(experiments.ClippingSpec(train_steps=2), table)["runs"]
    assert run["label"] == "without clipping: final loss" and math.isnan(run["final_loss"])
    assert run["text"] == ("Steps clipped: **0%** · largest finite ‖g‖: 3.5e+12 · **overflow "
                           "from step 2**: the loss or ‖g‖ is inf/nan at 1 of 2 steps")


def test_exploding_through_time_is_named_and_the_theory_is_finite_where_measured():
    """Gain 2, linear SimpleRNN: at T = 200 the state overflows, so every gradient is
    nan and no theory point is finite; at T = 100 the gradient overflows going back."""
    long = tt.ThroughTimeSpec(activation="linear", gain=2.0, steps=200)
    table = tt.through_time(long)
    assert table["signal_grad_norm"].isna().all()
    lines = experiments.problems(table, long)
    assert any(line.startswith("The forward signal overflows to inf at step ")
               for line in lines)
    assert ("Going back from step 200, the gradient is nan (not a number: inf x 0 or "
            "inf - inf) from step 200 down to step 1.") in lines
    assert not np.isfinite(tt.theory_line(table, table.attrs["spectral_radius"])).any()

    short = long.replace(steps=100)
    table = tt.through_time(short)
    signal = table["signal_grad_norm"].to_numpy()
    inf_step = int(table["step"][np.isinf(signal)].max())
    assert any(f"the gradient overflows to inf at step {inf_step}:" in line
               for line in experiments.problems(table, short))
    theory = tt.theory_line(table, table.attrs["spectral_radius"])
    assert np.isfinite(theory).all()
    finite = np.isfinite(signal) & (signal > 0)
    np.testing.assert_allclose(theory[finite], signal[finite], rtol=1e-3)


def test_a_zero_recurrent_kernel_is_multiplication_by_zero_through_time():
    spec = tt.ThroughTimeSpec(gain=0.0, steps=20, units=8)
    lines = experiments.problems(tt.through_time(spec), spec)
    assert lines == ["Going back from step 20, the gradient is exactly 0 from step 19 down "
                     "to step 1: the weight matrix between step 19 and 20 is 0 and "
                     "multiplies it by zero (not underflow)."]
    vanishing = tt.ThroughTimeSpec(activation="linear", gain=0.3, steps=200)
    [line] = experiments.problems(tt.through_time(vanishing), vanishing)
    assert "underflows to exactly 0 from step" in line and "down to step 1" in line
