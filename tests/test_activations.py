"""core.activations: the app's activations are Keras' own, slopes by autodiff."""
import numpy as np
import pytest

from core.activations import PEAK_SLOPE, activation_curves, activation_fn


def test_leaky_relu_with_the_slope_as_a_tensor_is_keras_leaky_relu():
    from core.tf_setup import keras, tf
    z = np.linspace(-5, 5, 101)
    ours = activation_fn("leaky_relu")(tf.constant(z), tf.constant(0.2, tf.float64))
    theirs = keras.layers.LeakyReLU(negative_slope=0.2, dtype="float64")(z)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), atol=0)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "elu", "selu", "gelu"])
def test_curves_peak_slope_matches_the_table(name):
    curves = activation_curves([name], low=-6, high=6, points=2401)
    assert curves["slope"].abs().max() == pytest.approx(PEAK_SLOPE[name], rel=1e-2)  # grid spacing 0.005


def test_curves_have_one_row_per_grid_point_and_activation():
    curves = activation_curves(["tanh", "relu"], points=11)
    assert list(curves.columns) == ["activation", "z", "value", "slope"]
    assert len(curves) == 22
    relu = curves[curves["activation"] == "relu"]
    np.testing.assert_array_equal(relu["slope"], (relu["z"] > 0).astype(float))
