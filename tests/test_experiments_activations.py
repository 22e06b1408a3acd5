"""core.experiments.activations: the curves' facts, the page's claims, the runs."""
import numpy as np
import pandas as pd
import pytest

from core.experiments import activations


def test_activation_curves_are_keras_functions_and_their_autodiff_slopes():
    from core.activations import activation_curves
    from core.experiments.activations import curve_facts, keras_leaky_relu_defaults
    curves = activation_curves(["sigmoid", "relu", "leaky_relu"], negative_slope=0.1,
                               points=101)
    sigmoid = curves[curves["activation"] == "sigmoid"]
    value = sigmoid["value"].to_numpy()
    np.testing.assert_allclose(sigmoid["slope"], value * (1 - value), atol=1e-12)
    leaky = curves[curves["activation"] == "leaky_relu"]
    assert leaky["slope"].iloc[0] == pytest.approx(0.1)
    facts = curve_facts(curves).set_index("activation")
    assert facts.loc["sigmoid", "peak slope"] == pytest.approx(0.25)
    assert facts.loc["relu", "slope exactly 0 for"] == "z <= 0"
    assert keras_leaky_relu_defaults() == {"keras.layers.LeakyReLU": 0.3,
                                           "keras.activations.leaky_relu": 0.2}


def test_the_activations_page_float32_claims_about_the_left_tail():
    """The page says: ELU/SELU never output 0 but their float32 slope is 0 below about
    z = -17; GELU's output rounds to 0 below about -13.5, swish's only below about -87."""
    from core.tf_setup import keras, tf
    z = tf.constant([-13.0, -16.0, -18.0, -86.0, -88.0], tf.float32)
    values, slopes = {}, {}
    for name in ("elu", "selu", "gelu", "swish"):
        with tf.GradientTape() as tape:
            tape.watch(z)
            a = getattr(keras.activations, name)(z)
        values[name], slopes[name] = a.numpy(), tape.gradient(a, z).numpy()
    for name in ("elu", "selu"):
        assert (values[name] < -0.9).all()
        assert slopes[name][0] > 0 and slopes[name][2] == 0
    assert values["gelu"][0] != 0 and values["gelu"][1] == 0
    assert (values["swish"][:4] != 0).all() and values["swish"][4] == 0
