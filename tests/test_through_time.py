"""core.through_time, the recurrent engine: spec, weights, the traced pass, its cache."""
import numpy as np
import pytest

from core import through_time as tt
from core.summary import gradient_ratio

SMALL = dict(steps=12, units=8, features=4, batch_size=4)


def step_ratio(table):
    return gradient_ratio(float(table["signal_grad_norm"].iloc[0]),
                          float(table["signal_grad_norm"].iloc[-1]))


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
    assert step_ratio(table) == pytest.approx(gain ** 59, rel=1e-9)
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
                for cell in tt.CELLS:  # the page's three cells compared
                    tt.through_time(spec.replace(cell=cell))
    finally:
        tf.get_logger().removeHandler(handler)
    assert not [r for r in records if "retracing" in r.getMessage()]
    for cell in tt.CELLS:
        traced = tt._traced_for(tt.ThroughTimeSpec(cell=cell))
        assert traced.experimental_get_tracing_count() == 1


def test_cached_once_with_fresh_copies_and_keywords_build_the_spec():
    spec = tt.ThroughTimeSpec(seed=77, **SMALL)
    tt._through_time.forget(spec)
    table = tt.through_time(spec)
    assert tt._through_time.contains(spec)
    table.loc[0, "signal_grad_norm"] = -1.0
    table.attrs["loss"] = -1.0
    again = tt.through_time(seed=77, **SMALL)
    assert again["signal_grad_norm"].iloc[0] > 0 and again.attrs["loss"] > 0
    assert again.equals(tt.compute_through_time(spec))
    with pytest.raises(TypeError, match="ThroughTimeSpec"):
        tt.through_time(object())


def test_seeds_are_core_weights_layer_seed():
    """One seed formula for the whole app: kernel 1, recurrent kernel 2, data 3."""
    from core.tf_setup import keras
    from core.weights import layer_seed
    spec = tt.ThroughTimeSpec(seed=5, recurrent_init="random_normal", stddev=0.1, **SMALL)
    weights = tt.make_weights(spec)
    kernel = keras.initializers.GlorotUniform(seed=layer_seed(5, 1))((4, 8), dtype="float32")
    np.testing.assert_array_equal(weights["kernel"], np.asarray(kernel))
    recurrent = keras.initializers.RandomNormal(mean=0.0, stddev=0.1, seed=layer_seed(5, 2))(
        (8, 8), dtype="float32")
    np.testing.assert_array_equal(weights["recurrent_kernel"], np.asarray(recurrent))
    inputs, _ = tt.make_data(spec)
    expected = np.random.default_rng(layer_seed(5, 3)).standard_normal((12, 4, 4))
    np.testing.assert_array_equal(inputs, expected.astype("float32"))


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


def test_the_theory_line_is_anchored_on_the_last_measured_step():
    """Away from the exact linear case the line still meets the measurement at step T."""
    spec = tt.ThroughTimeSpec(cell="simple", activation="tanh", gain=1.2, steps=40,
                              units=16, dtype="float64")
    table = tt.through_time(spec)
    theory = tt.theory_line(table, 0.7)
    assert theory[-1] == pytest.approx(float(table["signal_grad_norm"].iloc[-1]), rel=1e-12)
    assert theory[0] == pytest.approx(theory[-1] * 0.7 ** 39, rel=1e-9)
