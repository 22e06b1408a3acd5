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


# --- The phase diagram -------------------------------------------------------------------
@pytest.mark.parametrize("sigma_b2, expected", [(0.0, 1.000), (0.05, 1.761), (0.5, 2.843)])
def test_tanh_critical_line_passes_the_known_values(sigma_b2, expected):
    """Poole et al. 2016 / Schoenholz et al. 2017: tanh's edge of chaos."""
    critical = theory.critical_sigma_w2("tanh", sigma_b2)
    assert round(critical, 3) == pytest.approx(expected, abs=1e-9)
    assert theory.chi1("tanh", critical, sigma_b2) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("sigma_b2", [0.0, 0.1, 1.0])
def test_relu_is_critical_at_two_whatever_the_bias(sigma_b2):
    assert theory.critical_sigma_w2("relu", sigma_b2) == pytest.approx(2.0, rel=1e-9)
    for sigma_w2 in (1.0, 2.0, 3.0):
        assert theory.chi1("relu", sigma_w2, sigma_b2) == pytest.approx(sigma_w2 / 2)


def test_relu_fixed_point_is_closed_form():
    # q = sigma_w2 q / 2 + sigma_b2 -> q* = sigma_b2 / (1 - sigma_w2 / 2)
    assert theory.q_star("relu", 1.5, 0.1) == pytest.approx(0.1 / 0.25)
    assert theory.q_star("relu", 2.5, 0.1) == math.inf
    assert theory.q_star("relu", 2.0, 0.0, q0=3.0) == 3.0  # every q is a fixed point
    assert theory.q_star("linear", 0.5, 0.2) == pytest.approx(0.4)


def test_tanh_fixed_point_solves_the_length_map_and_is_stable():
    for sigma_w2, sigma_b2 in ((1.5, 0.0), (2.0, 0.05), (0.5, 0.5), (4.0, 1.0)):
        q = theory.q_star("tanh", sigma_w2, sigma_b2)
        assert q > 0
        assert float(theory.length_map("tanh", sigma_w2, sigma_b2, q)) == \
            pytest.approx(q, rel=1e-10)
        # iterating the map from far away reaches it
        for start in (1e-3, 30.0):
            value = start
            for _ in range(400):
                value = float(theory.length_map("tanh", sigma_w2, sigma_b2, value))
            assert value == pytest.approx(q, rel=1e-6), (sigma_w2, sigma_b2, start)
    # ordered, no bias: the length dies out
    assert theory.q_star("tanh", 0.8, 0.0) == 0.0
    assert theory.chi1("tanh", 0.8, 0.0) == pytest.approx(0.8)


def test_depth_scale_is_minus_one_over_log_chi():
    assert theory.depth_scale(math.exp(-1 / 7)) == pytest.approx(7.0)
    assert theory.depth_scale(math.exp(1 / 12)) == pytest.approx(12.0)
    assert theory.depth_scale(1.0) == math.inf
    assert math.isnan(theory.depth_scale(math.nan))


def test_tanh_at_the_critical_point_without_bias_decays_as_a_power_law():
    """sigma_w2 = 1, sigma_b2 = 0: q_l ~ 1/(2l), and the gradient ratio falls like a
    power of the depth (L^-1/2), not exponentially."""
    spec = ModelSpec(depth=200, width=64, activation="tanh", init="variance_scaling",
                     scale=1.0, no_bias=True)
    mf = theory.mean_field(spec)
    layers = mf["layer"].to_numpy()
    q = mf["preactivation_var"].to_numpy()
    assert 2 * layers[-1] * q[-1] == pytest.approx(1.0, rel=0.05)
    depths = np.array([25, 50, 100, 200])
    logs = np.array([theory.log10_ratio(theory.mean_field(spec.replace(depth=int(d))))
                     for d in depths])
    slope = np.polyfit(np.log10(depths), logs, 1)[0]
    assert slope == pytest.approx(-0.5, abs=0.08)
    # an exponential decay would make log_ratio linear in L: far from it
    steps = np.diff(logs) / np.diff(depths)
    assert abs(steps[-1]) < 0.35 * abs(steps[0])  # per-layer decay ~ 1/L


def test_chi_lines_have_the_chi_they_claim():
    for chi in (math.exp(-1 / 10), 1.0, math.exp(1 / 10)):
        line = theory.chi_line("tanh", chi)
        assert (line.sigma_b2 >= 0).all() and len(line) > 50
        for row in line.iloc[::60].itertuples():
            assert theory.chi1("tanh", row.sigma_w2, row.sigma_b2) == \
                pytest.approx(chi, rel=1e-6)


def test_residual_theory_is_one_plus_beta_squared_per_skipped_layer():
    from core.theory import residual_growth, residual_theory
    assert residual_growth(1.0, 19) == 2.0 ** 19
    assert residual_growth(0.0, 49) == 1.0
    assert residual_growth(1 / math.sqrt(20), 19) == pytest.approx((1 + 1 / 20) ** 19)
    assert residual_growth(1 / math.sqrt(1000), 999) < math.e  # 1/sqrt(L): O(1)
    table = residual_theory(5, 0.5)
    np.testing.assert_allclose(table["theory_forward_gain"], 1.25 ** (np.arange(5) / 2))
    np.testing.assert_allclose(table["theory_backward_gain"],
                               1.25 ** (np.arange(4, -1, -1) / 2))
    assert table["theory_forward_gain"].iloc[-1] ** 2 == pytest.approx(
        residual_growth(0.5, 4))
