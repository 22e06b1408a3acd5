"""core.recurrent_keras: the real keras.layers cells, step by step, against the fast path."""
import numpy as np
import pytest

from core import recurrent_keras
from core import through_time as tt

SMALL = dict(steps=12, units=8, features=4, batch_size=4)


@pytest.mark.parametrize("cell", tt.CELLS)
@pytest.mark.parametrize("activation", tt.ACTIVATIONS)
def test_fast_path_equals_real_keras_cell(cell, activation):
    spec = tt.ThroughTimeSpec(cell=cell, activation=activation, forget_bias=2.0, **SMALL)
    fast = tt.compute_through_time(spec)
    keras_table = recurrent_keras.keras_reference_profile(spec)
    for column in ("signal_grad_norm", "state_norm"):
        np.testing.assert_allclose(fast[column], keras_table[column], rtol=1e-4)
    if cell == "lstm":
        np.testing.assert_allclose(fast["cell_grad_norm"], keras_table["cell_grad_norm"],
                                   rtol=1e-4)
    assert fast.attrs["loss"] == pytest.approx(keras_table.attrs["loss"], rel=1e-5)


@pytest.mark.parametrize("init, text", [
    ("orthogonal", "keras.initializers.Orthogonal(gain=1.25, seed="),
    ("identity", "keras.initializers.Identity(gain=1.25)"),
    ("random_normal", "keras.initializers.RandomNormal(mean=0.0, stddev=0.05, seed="),
    ("glorot_uniform", "keras.initializers.GlorotUniform(seed="),
])
def test_keras_code_names_the_recurrent_initializer_the_engine_uses(init, text):
    """The shown code and make_weights read one description of the initializer."""
    spec = tt.ThroughTimeSpec(recurrent_init=init, gain=1.25)
    assert f"recurrent_initializer={text}" in recurrent_keras.keras_code(spec)
    cell = recurrent_keras.keras_cell(spec.replace(**SMALL))
    np.testing.assert_array_equal(cell.get_weights()[1],
                                  tt.make_weights(spec.replace(**SMALL))["recurrent_kernel"])


def test_keras_code_sets_the_forget_bias_only_when_it_differs_from_keras():
    code = recurrent_keras.keras_code(tt.ThroughTimeSpec(cell="lstm", forget_bias=3.0))
    assert "bias[units:2 * units] = 3.0" in code and "keras.layers.LSTMCell(" in code
    assert "bias[units" not in recurrent_keras.keras_code(tt.ThroughTimeSpec(cell="lstm"))
    assert "bias[units" not in recurrent_keras.keras_code(
        tt.ThroughTimeSpec(cell="gru", forget_bias=3.0))
