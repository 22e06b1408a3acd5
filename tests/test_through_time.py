"""Gradient through time: closed form, Keras cells, forget bias, clipping, CLI, page."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, chart_specs
from core import through_time as tt
from core.charts import through_time as charts

SMALL = dict(steps=12, units=8, features=4, batch_size=4)


def test_spec_validates_with_field_names():
    assert tt.ThroughTimeSpec(steps=40.0).steps == 40  # text goes through parse_field (CLI, URL)
    with pytest.raises(ValueError, match="cell must be one of simple, lstm, gru"):
        tt.ThroughTimeSpec(cell="transformer")
    with pytest.raises(ValueError, match="steps must be an integer from 2 to 200"):
        tt.ThroughTimeSpec(steps=201)
    with pytest.raises(ValueError, match="gain"):
        tt.ThroughTimeSpec(gain=float("nan"))


@pytest.mark.parametrize("gain", [0.9, 1.1])
def test_linear_orthogonal_ratio_is_gain_power(gain):
    """Linear SimpleRNN, W_hh = gain x orthogonal: step 1 / step T = gain^(T-1) exactly."""
    spec = tt.ThroughTimeSpec(cell="simple", activation="linear", recurrent_init="orthogonal",
                              gain=gain, steps=60, units=16, dtype="float64")
    table = tt.through_time(spec)
    assert tt.step_ratio(table) == pytest.approx(gain ** 59, rel=1e-9)
    # traced once for this (cell, activation, dtype), then reused for every setting
    tt.through_time(spec.replace(steps=30, units=8, seed=4))
    assert tt._traced_for(spec).experimental_get_tracing_count() == 1
    assert table.attrs["spectral_radius"] == pytest.approx(gain, rel=1e-9)
    assert table.attrs["largest_singular_value"] == pytest.approx(gain, rel=1e-9)
    theory = tt.theory_line(table, table.attrs["spectral_radius"])
    np.testing.assert_allclose(table["signal_grad_norm"], theory, rtol=1e-9)


def test_every_cell_and_activation_without_retracing_warnings():
    """One traced function per (cell, dtype): the activation is a tensor argument, so
    the page's 9 (cell, activation) pairs trace 3 times in all and TensorFlow's "N out of
    the last 10 calls triggered tf.function retracing" warning never fires."""
    import logging
    from core.tf_setup import tf
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    tf.get_logger().addHandler(handler)
    try:
        for activation in tt.ACTIVATIONS:
            for steps in (6, 9):
                spec = tt.ThroughTimeSpec(activation=activation, steps=steps, units=8,
                                          batch_size=4, seed=steps)
                tt.compare_cells(spec)
    finally:
        tf.get_logger().removeHandler(handler)
    assert not [r for r in records if "retracing" in r.getMessage()]
    for cell in tt.CELLS:
        traced = tt._traced_for(tt.ThroughTimeSpec(cell=cell))
        assert traced.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("cell", tt.CELLS)
@pytest.mark.parametrize("activation", tt.ACTIVATIONS)
def test_fast_path_equals_real_keras_cell(cell, activation):
    spec = tt.ThroughTimeSpec(cell=cell, activation=activation, forget_bias=2.0, **SMALL)
    fast, keras_table = tt.compute_through_time(spec), tt.keras_reference_profile(spec)
    for column in ("signal_grad_norm", "state_norm"):
        np.testing.assert_allclose(fast[column], keras_table[column], rtol=1e-4)
    if cell == "lstm":
        np.testing.assert_allclose(fast["cell_grad_norm"], keras_table["cell_grad_norm"],
                                   rtol=1e-4)
    assert fast.attrs["loss"] == pytest.approx(keras_table.attrs["loss"], rel=1e-5)


def test_lstm_step_one_signal_grows_with_forget_bias():
    spec = tt.ThroughTimeSpec(cell="lstm", steps=50)
    sweep = tt.forget_bias_sweep(spec)
    first = sweep[sweep["step"] == 1].set_index("forget_bias")["signal_grad_norm"]
    assert list(first.index) == [0.0, 1.0, 3.0, 5.0]
    assert np.all(np.diff(first.to_numpy()) > 0), first
    ratios = [tt.step_ratio(group) for _, group in sweep.groupby("forget_bias")]
    assert ratios[0] < 1e-9 < ratios[1] < 1e-3 < 0.01 < ratios[2] < ratios[3]


def test_charts_are_log_axes_with_theory_dashed():
    table = tt.through_time(tt.ThroughTimeSpec(activation="linear", gain=0.5, **SMALL))
    chart = charts.signal_through_time(table, title="t", radius=0.5,
                                       theory=tt.theory_line(table, 0.5)).to_dict()
    assert chart["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"
    assert "strokeDash" in json.dumps(chart)  # the theory line is dashed
    rows = next(iter(chart["datasets"].values()))
    assert any(row["series"].startswith("theory ρ^(T−t)") for row in rows)
    cells = charts.compare_cells(tt.compare_cells(tt.ThroughTimeSpec(**SMALL)), title="c")
    data = next(iter(cells.to_dict()["datasets"].values()))
    assert {row["series"] for row in data} == {"SimpleRNN", "LSTM", "GRU"}


def test_clipping_caps_the_norm_and_counts_clipped_steps():
    spec = tt.ClippingSpec(sequence_length=8, units=8, gain=2.0, learning_rate=0.3,
                           clip_norm=0.5, train_steps=15, batch_size=8)
    calls = []
    table = tt.train_clipping(spec, on_step=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (30, 30)
    clipped_run = table[table["run"] == "clipped at 0.5"]
    free_run = table[table["run"] == "without clipping"]
    assert (clipped_run["grad_norm_after"] <= 0.5 * (1 + 1e-5)).all()
    assert not free_run["clipped"].any()
    first = table.groupby("run", sort=False)["grad_norm_before"].first()
    assert first.iloc[0] == pytest.approx(first.iloc[1])  # same start, same batch
    summary = tt.clipping_summary(table).set_index("run")
    assert summary.loc["clipped at 0.5", "clipped_fraction"] == clipped_run["clipped"].mean()
    charts.clipping_norms(table, title="n").to_dict()
    charts.clipping_losses(table, title="l").to_dict()


def _cli(*flags):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "core", "through-time", *flags],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_cli_json_and_csv(capsys):
    done = _cli("--cell", "gru", "--activation", "linear", "--recurrent-init", "identity",
                "--gain", "0.9", "--steps", "6", "--units", "4", "--seed", "3",
                "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [row["step"] for row in rows] == [1, 2, 3, 4, 5, 6]
    assert {"signal_grad_norm", "spectral_radius", "largest_singular_value"} <= set(rows[0])
    # Keras' Identity on a (units, 3 units) GRU kernel fills only the first gate block.
    assert rows[0]["spectral_radius"] == 0.0
    from core.cli import main  # in-process: one subprocess is enough for the slow import
    assert main(["through-time", "--cell", "simple", "--activation", "linear",
                 "--recurrent-init", "identity", "--gain", "0.9", "--steps", "5",
                 "--units", "4"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("step,signal_grad_norm") and len(lines) == 6
    first, last = (float(line.split(",")[1]) for line in (lines[1], lines[-1]))
    assert first / last == pytest.approx(0.9 ** 4, rel=1e-5)
    assert float(lines[1].split(",")[-2]) == pytest.approx(0.9)


@pytest.mark.parametrize("flags, message", [
    (("--cell", "transformer"), "--cell must be one of simple, lstm, gru"),
    (("--steps", "500"), "--steps must be an integer from 2 to 200"),
    (("--gain", "abc"), "--gain must be a number from 0 to 3"),
    (("--format", "xml"), "--format"),
])
def test_cli_bad_flags_exit_2_with_one_line(flags, message):
    done = _cli(*flags)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_page_renders_and_reacts(app):
    at = app("pages/through_time.py", {"cell": "lstm", "forget_bias": "3", "steps": "20",
                                       "units": "16", "gain": "9"})
    assert any("gain" in warning.value for warning in at.warning)
    assert at.selectbox(key="through_time:cell").value == "lstm"
    specs = chart_specs(at)
    assert len(specs) == 3
    ratio = at.metric[0].value
    at.select_slider(key="through_time:forget_bias").set_value(0.0).run()
    assert not at.exception
    assert at.metric[0].value != ratio
    at.selectbox(key="through_time:activation").set_value("linear")
    at.selectbox(key="through_time:cell").set_value("simple").run()
    assert not at.exception
    assert any("theory" in json.dumps(spec) for spec in chart_specs(at))


def test_page_trains_with_and_without_clipping(app):
    at = app("pages/through_time.py", {"steps": "10", "units": "8"})
    assert "clipping_result" not in at.session_state
    at.select_slider(key="clip_train_steps").set_value(50)
    next(b for b in at.button if b.label == "Train both runs").click().run()
    assert not at.exception
    spec, table = at.session_state["clipping_result"]
    assert spec.train_steps == 50 and len(table) == 100
    assert len(chart_specs(at)) == 5
    assert any("Steps clipped" in m.value for m in at.markdown)
    at.slider(key="through_time:steps").set_value(12).run()  # results survive a rerun
    assert "clipping_result" in at.session_state and len(chart_specs(at)) == 5


def test_step_axes_have_integer_ticks():
    """Steps are whole numbers: no 1.5 tick on any of the page's charts."""
    spec = tt.ThroughTimeSpec(**SMALL)
    clip = tt.train_clipping(tt.ClippingSpec(train_steps=3))
    for chart in (charts.signal_through_time(tt.through_time(spec), title="t"),
                  charts.compare_cells(tt.compare_cells(spec), title="t"),
                  charts.forget_bias(tt.forget_bias_sweep(spec), title="t"),
                  charts.clipping_norms(clip, title="t"),
                  charts.clipping_losses(clip, title="t")):
        axes = [layer["encoding"]["x"]["axis"] for layer in chart.to_dict()["layer"]
                if "x" in layer.get("encoding", {})]
        assert axes and all(a.get("format") == "d" and a.get("tickMinStep") == 1
                            for a in axes)


def test_exploding_through_time_is_named_and_the_theory_is_drawn_where_finite():
    """Gain 2, linear SimpleRNN: at T = 200 the state overflows, so every gradient is
    nan and no theory point is finite; at T = 100 the gradient overflows going back."""
    long = tt.ThroughTimeSpec(activation="linear", gain=2.0, steps=200)
    table = tt.through_time(long)
    assert table["signal_grad_norm"].isna().all()
    lines = tt.problems(table, long)
    assert any(line.startswith("The forward signal overflows to inf at step ")
               for line in lines)
    assert ("Going back from step 200, the gradient is nan (not a number: inf x 0 or "
            "inf - inf) from step 200 down to step 1.") in lines
    theory = tt.theory_line(table, table.attrs["spectral_radius"])
    chart = charts.signal_through_time(table, title="t", theory=theory, radius=2.0)
    spec = chart.to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert not any(row["series"].startswith("theory") for row in rows)  # not in legend
    assert "no theory line" in json.dumps(spec["title"])

    short = long.replace(steps=100)
    table = tt.through_time(short)
    signal = table["signal_grad_norm"].to_numpy()
    inf_step = int(table["step"][np.isinf(signal)].max())
    assert any(f"the gradient overflows to inf at step {inf_step}:" in line
               for line in tt.problems(table, short))
    theory = tt.theory_line(table, table.attrs["spectral_radius"])
    assert np.isfinite(theory).all()
    finite = np.isfinite(signal) & (signal > 0)
    np.testing.assert_allclose(theory[finite], signal[finite], rtol=1e-3)
    rows = next(iter(charts.signal_through_time(table, title="t", theory=theory,
                                                radius=2.0).to_dict()["datasets"].values()))
    drawn = [row for row in rows if row["series"].startswith("theory")]
    assert len(drawn) == 100 and all(row["status"] == "finite" for row in drawn)


def test_a_zero_recurrent_kernel_is_multiplication_by_zero_through_time():
    spec = tt.ThroughTimeSpec(gain=0.0, steps=20, units=8)
    lines = tt.problems(tt.through_time(spec), spec)
    assert lines == ["Going back from step 20, the gradient is exactly 0 from step 19 down "
                     "to step 1: the weight matrix between step 19 and 20 is 0 and "
                     "multiplies it by zero (not underflow)."]
    vanishing = tt.ThroughTimeSpec(activation="linear", gain=0.3, steps=200)
    [line] = tt.problems(tt.through_time(vanishing), vanishing)
    assert "underflows to exactly 0 from step" in line and "down to step 1" in line


def test_page_warns_where_the_gradient_breaks(app):
    at = app("pages/through_time.py", {"activation": "linear", "gain": "2",
                                       "steps": "200"})
    texts = [w.value for w in at.warning]
    assert any("the gradient is nan" in text for text in texts)
    assert any("The forward signal overflows to inf at step" in text for text in texts)


def test_the_recurrent_matrix_is_the_candidate_block_in_keras_gate_order():
    """Keras' recurrent kernels: LSTM gates i, f, c, o and GRU z, r, h; the matrix that
    carries the state is the third block (c or h). Block k is (k+1) I here."""
    units = 4
    for cell, gates in tt.GATES.items():
        kernel = np.concatenate([(k + 1) * np.eye(units) for k in range(gates)], axis=1)
        spec = tt.ThroughTimeSpec(cell=cell, units=units)
        expected = 1.0 if cell == "simple" else 3.0
        np.testing.assert_array_equal(tt.recurrent_matrix(spec, kernel),
                                      expected * np.eye(units))
        assert tt.kernel_radii(spec, kernel) == pytest.approx((expected, expected))
