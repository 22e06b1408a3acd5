"""core.theory against closed forms, against Keras, and against measured networks."""
import math

import numpy as np
import pytest

from core import theory
from core.spec import ModelSpec

CURVES = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu",
          "swish", "softsign")


def test_numpy_activations_match_keras():
    from core.activations import activation_curves
    curves = activation_curves(CURVES, points=81)
    for name, rows in curves.groupby("activation"):
        z = rows["z"].to_numpy()
        np.testing.assert_allclose(theory.phi(name, z), rows["value"], atol=1e-6,
                                   err_msg=name)
        keep = np.abs(z) > 1e-9  # the kink of the ReLU family
        np.testing.assert_allclose(theory.slope(name, z)[keep], rows["slope"][keep],
                                   atol=1e-6, err_msg=name)


def test_sigmoid_slope_at_most_a_quarter():
    z = np.linspace(-10, 10, 2001)
    assert theory.slope("sigmoid", z).max() == pytest.approx(0.25)


def test_gaussian_mean_closed_forms():
    assert theory.gaussian_mean(lambda z: z ** 2, 2.5) == pytest.approx(2.5)
    assert theory.gaussian_mean(lambda z: theory.slope("relu", z) ** 2, 3.0) == \
        pytest.approx(0.5)
    # E[relu(z)^2] = q / 2
    assert theory.gaussian_mean(lambda z: theory.phi("relu", z) ** 2, 4.0) == \
        pytest.approx(2.0)


@pytest.mark.parametrize("sigma_w", [0.8, 1.2, 1.6])
def test_relu_chi_is_half_sigma_w_squared(sigma_w):
    spec = ModelSpec(depth=5, width=64, activation="relu", init="variance_scaling",
                     scale=sigma_w ** 2)
    chi = theory.mean_field(spec)["chi"].to_numpy()[1:]
    np.testing.assert_allclose(chi, sigma_w ** 2 / 2, rtol=1e-9)


def test_tanh_chi_tends_to_sigma_w_squared_below_the_edge():
    spec = ModelSpec(depth=200, width=64, activation="tanh", init="variance_scaling",
                     scale=0.7 ** 2, no_bias=True)
    assert theory.mean_field(spec)["chi"].iloc[-1] == pytest.approx(0.49, rel=1e-3)


@pytest.mark.parametrize("init", ["random_normal", "random_uniform", "glorot_normal",
                                  "glorot_uniform", "he_normal", "he_uniform",
                                  "lecun_normal", "he_avg_normal", "orthogonal"])
def test_weight_variance_matches_keras(init):
    from core.weights import kernel_initializer
    spec = ModelSpec(width=200, init=init)
    drawn = np.asarray(kernel_initializer(spec, seed=3)((160, 200), dtype="float64"))
    assert drawn.var() == pytest.approx(theory.weight_variance(spec, 160, 200), rel=0.03)


def test_theory_matches_measured_signal():
    from core.per_layer import profile
    for activation, sigma in (("tanh", 0.8), ("tanh", 1.5), ("relu", 1.2)):
        spec = ModelSpec(depth=20, width=256, batch_size=64, activation=activation,
                         init="variance_scaling", scale=sigma ** 2)
        table = theory.with_theory(spec, profile(spec))
        measured = math.log10(table.signal_grad_norm.iloc[0] / table.signal_grad_norm.iloc[-1])
        predicted = math.log10(table.theory_signal.iloc[0] / table.theory_signal.iloc[-1])
        assert measured == pytest.approx(predicted, abs=0.3), (activation, sigma)
        # Infinite-width theory; at width 256 the forward std drifts a few % per layer.
        np.testing.assert_allclose(np.log10(table.activation_std),
                                   np.log10(table.theory_activation_std), atol=0.25)


def test_orthogonal_linear_net_keeps_every_layer_signal():
    from core.per_layer import profile
    spec = ModelSpec(depth=12, width=64, batch_size=32, activation="linear",
                     init="orthogonal", no_bias=True, dtype="float64")
    signal = profile(spec)["signal_grad_norm"].to_numpy()
    np.testing.assert_allclose(signal, signal[-1], rtol=1e-9)


def test_lecun_normal_selu_self_normalizes():
    from core.per_layer import profile
    spec = ModelSpec(depth=30, width=256, batch_size=128, activation="selu",
                     init="lecun_normal")
    table = profile(spec)
    assert np.abs(table.activation_mean).max() < 0.15
    np.testing.assert_allclose(table.activation_std, 1.0, atol=0.15)


def test_tanh_random_normal_vanishes_narrow_not_wide():
    from core.per_layer import profile
    from core.summary import summarize
    narrow = ModelSpec(depth=10, width=100, batch_size=16, activation="tanh",
                       init="random_normal", stddev=0.05)
    wide = narrow.replace(width=1000)
    assert summarize(profile(narrow))["verdict"] == "vanishing"
    assert summarize(profile(wide))["verdict"] != "vanishing"
    # theory: n Var(W) = 0.25 narrow (chi -> 0.25), 2.5 wide (chi > 1)
    assert theory.log10_ratio(theory.mean_field(narrow)) < -2
    assert theory.log10_ratio(theory.mean_field(wide)) > 0


def test_relu_glorot_signal_vanishes_while_weight_gradient_is_flat():
    from core.per_layer import profile
    spec = ModelSpec(depth=20, width=256, batch_size=64, activation="relu",
                     init="glorot_normal")
    table = profile(spec)
    signal = table.signal_grad_norm.iloc[0] / table.signal_grad_norm.iloc[-1]
    weight = table.weight_grad_norm.iloc[0] / table.weight_grad_norm.iloc[-1]
    assert 3e-4 < signal < 6e-3  # theory (1/sqrt 2)^19 = 1.4e-3
    assert 0.5 < weight < 2.0


def test_with_theory_without_mean_field_is_nan_and_gains_are_measured():
    import pandas as pd
    spec = ModelSpec(depth=3, width=8, batch_norm=True)
    table = pd.DataFrame({"layer": [1, 2, 3], "signal_grad_norm": [1.0, 2.0, 8.0]})
    out = theory.with_theory(spec, table)
    assert "theory_signal" not in table  # a copy, not the caller's table
    assert out[["theory_activation_std", "theory_signal", "theory_chi",
                "theory_gain"]].isna().all().all()
    np.testing.assert_allclose(out.measured_gain, [np.nan, 0.5, 0.25])



@pytest.mark.parametrize("gain", [0.8, 1.3])
def test_linear_orthogonal_log10_ratio_is_exactly_depth_minus_one_decades_of_gain(gain):
    """chi = gain^2 per backward step, so log10(ratio) = (L - 1) log10(gain), and the
    float64 measurement of an orthogonal linear net agrees to 1e-9."""
    from core.per_layer import compute_profile
    from core.summary import summarize
    spec = ModelSpec(depth=12, width=32, activation="linear", init="orthogonal",
                     gain=gain, no_bias=True, dtype="float64")
    predicted = theory.log10_ratio(theory.mean_field(spec))
    assert predicted == pytest.approx(11 * math.log10(gain), rel=1e-12)
    measured = summarize(compute_profile(spec))["log10_ratio"]
    assert measured == pytest.approx(predicted, rel=1e-9)


def test_variance_scaling_uses_the_fan_in_on_a_non_square_kernel():
    """The spec's variance_scaling init is Keras' VarianceScaling(mode='fan_in')."""
    from core.weights import kernel_initializer
    spec = ModelSpec(width=400, init="variance_scaling", scale=2.0)
    assert theory.weight_variance(spec, 100, 400) == pytest.approx(2.0 / 100)
    drawn = np.asarray(kernel_initializer(spec, seed=5)((100, 400), dtype="float64"))
    assert drawn.var() == pytest.approx(2.0 / 100, rel=0.03)


def test_log10_ratios_of_many_specs_equal_each_specs_own_recursion():
    """The vectorised recursion (the Goldilocks sweep's theory curve) is the same
    recursion: spec by spec it gives log10_ratio(mean_field(spec)), to rounding."""
    specs = [ModelSpec(depth=12, width=64, activation=activation, init="variance_scaling",
                       scale=scale) for activation in ("tanh", "relu")
             for scale in (0.3, 1.0, 2.0, 4.0)]
    for activation in ("tanh", "relu"):
        group = [spec for spec in specs if spec.activation == activation]
        together = theory.log10_ratios(group)
        alone = [theory.log10_ratio(theory.mean_field(spec)) for spec in group]
        np.testing.assert_allclose(together, alone, rtol=1e-13, atol=1e-13)
    assert theory.log10_ratios(ModelSpec(depth=1, width=8) for _ in range(2)).tolist() == [0, 0]
    with pytest.raises(ValueError, match="share depth"):
        theory.log10_ratios([ModelSpec(depth=3), ModelSpec(depth=4)])
