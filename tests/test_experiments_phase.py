"""core.experiments.phase: the measured phase diagram against core.per_layer and theory."""
import math

import numpy as np
import pytest

from core import theory
from core.experiments import phase
from core.experiments.phase import COLUMNS, PhaseSpec
from core.spec import ModelSpec

SMALL = PhaseSpec(depth=20, width=128, batch_size=16, sigma_w2=(0.5, 1.0, 2.0, 3.0),
                  sigma_b2=(0.0, 0.05, 0.5))


def test_a_point_is_the_model_spec_of_its_variances():
    network = SMALL.network(2.0, 0.05)
    assert network == ModelSpec(depth=20, width=128, batch_size=16, activation="tanh",
                                init="variance_scaling", scale=2.0,
                                bias_stddev=math.sqrt(0.05))
    assert theory.weight_variance(network, 128, 128) == pytest.approx(2.0 / 128)


@pytest.mark.parametrize("sigma_w2, sigma_b2", [(2.0, 0.05), (0.5, 0.0), (3.0, 1.0)])
def test_scaled_unit_draw_is_what_make_weights_draws(sigma_w2, sigma_b2):
    from core.weights import make_data, make_weights
    network = SMALL.network(sigma_w2, sigma_b2)
    weights, data = phase.point_weights(network)
    for mine, keras in zip(weights, make_weights(network)):
        np.testing.assert_allclose(mine, keras, rtol=1e-6, atol=1e-9)
    for mine, keras in zip(data, make_data(network)):
        np.testing.assert_array_equal(mine, keras)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_measured_point_is_the_per_layer_profile(activation):
    from core.per_layer import compute_profile
    from core.summary import summarize
    spec = SMALL.replace(activation=activation)
    for sigma_w2, sigma_b2 in ((1.0, 0.05), (3.0, 0.5)):
        network = spec.network(sigma_w2, sigma_b2)
        expected = summarize(compute_profile(network))["log10_ratio"]
        got = phase.measured_point(network)["measured_log10_ratio"]
        assert got == pytest.approx(expected, rel=1e-5, abs=1e-5)


def test_grid_rows_columns_and_theory():
    calls = []
    table = phase.phase_grid(SMALL, on_point=lambda done, total: calls.append((done, total)))
    assert list(table.columns) == ["activation"] + COLUMNS + ["measured_ratio"]
    assert len(table) == 12 and calls == [(4, 12), (8, 12), (12, 12)]  # one per row
    assert phase.is_cached(SMALL)
    for row in table.itertuples():
        assert row.critical_sigma_w2 == pytest.approx(
            theory.critical_sigma_w2("tanh", row.sigma_b2))
        assert row.chi1 == pytest.approx(theory.chi1("tanh", row.sigma_w2, row.sigma_b2,
                                                     q0=row.sigma_w2 + row.sigma_b2))
        assert row.depth_scale == pytest.approx(theory.depth_scale(row.chi1))
    # mean field with the same depth and input predicts the measured ratio
    np.testing.assert_allclose(table.measured_log10_ratio, table.theory_log10_ratio,
                               atol=0.45)
    # the phases: vanishing left of the critical line, exploding right of it
    ordered = table[table.sigma_w2 < table.critical_sigma_w2 * 0.7]
    chaotic = table[table.sigma_w2 > table.critical_sigma_w2 * 1.4]
    assert (ordered.measured_log10_ratio < -0.5).all() and len(ordered) >= 3
    assert (chaotic.measured_log10_ratio > 0.2).all() and len(chaotic) >= 2


def test_relu_grid_is_critical_at_he_whatever_the_bias():
    table = phase.phase_grid(SMALL.replace(activation="relu", sigma_w2=(1.0, 2.0, 4.0)))
    he = table[table.sigma_w2 == 2.0]
    assert (he.measured_log10_ratio.abs() < 0.3).all()
    assert (he.theory_log10_ratio == 0).all() and (he.chi1 == 1.0).all()
    assert (table[table.sigma_w2 == 1.0].measured_log10_ratio < -2).all()
    assert (table[table.sigma_w2 == 4.0].measured_log10_ratio > 2).all()


def test_budget_and_bad_values_are_refused():
    with pytest.raises(ValueError, match="grid's budget"):
        PhaseSpec(depth=100, width=256, batch_size=64, sigma_w2=tuple(range(1, 25)),
                  sigma_b2=(0.0, 0.1))
    with pytest.raises(ValueError, match="work budget"):
        PhaseSpec(width=1024, batch_size=2048)
    with pytest.raises(ValueError, match="^activation must be"):
        PhaseSpec(activation="softmax")


def test_theory_lines_critical_and_depth_scales():
    lines = phase.theory_lines("tanh", 1.0)
    critical = lines[lines.side == "critical"].sort_values("sigma_b2")
    assert critical.sigma_w2.iloc[0] == pytest.approx(1.0, abs=1e-3)
    assert np.interp(0.5, critical.sigma_b2, critical.sigma_w2) == pytest.approx(
        2.843, abs=2e-3)
    assert lines.sigma_b2.max() <= 1.0001
    ten = lines[lines.line == "ξ = 10 layers (ordered)"]
    np.testing.assert_allclose(ten.chi1, math.exp(-0.1))
    assert len(ten) > 50
    relu = phase.theory_lines("relu", 1.0)
    np.testing.assert_allclose(relu[relu.side == "critical"].sigma_w2, 2.0)


def test_point_text_names_the_phase():
    table = phase.phase_grid(SMALL)
    row = table[(table.sigma_w2 == 0.5) & (table.sigma_b2 == 0.0)].iloc[0].to_dict()
    assert "**ordered (gradients vanish)**" in phase.point_text(row)
    row = table[(table.sigma_w2 == 3.0) & (table.sigma_b2 == 0.0)].iloc[0].to_dict()
    assert "chaotic" in phase.point_text(row)
    assert "measured in" in phase.phase_caption(table, SMALL)


# --- The Jacobian spectrum -----------------------------------------------------------------
def test_isometry_settings_sit_on_the_critical_line_at_the_fixed_point():
    for activation in phase.ISOMETRY_ACTIVATIONS:
        setting = phase.isometry_setting(activation)
        assert theory.chi1(activation, setting["sigma_w2"], setting["sigma_b2"]) == \
            pytest.approx(1.0, abs=1e-6)
        spec = phase.isometry_spec(activation, "Gaussian", 8)
        q = theory.mean_field(spec)["preactivation_var"].to_numpy()
        np.testing.assert_allclose(q, q[0], rtol=1e-6)  # every layer at q*
    orthogonal = phase.isometry_spec("relu", "orthogonal", 4)
    assert orthogonal.init == "orthogonal" and orthogonal.gain == pytest.approx(math.sqrt(2))


def test_isometry_tables():
    result = phase.isometry("linear", depths=(2, 8), width=64)
    values, histogram, moments = result["values"], result["histogram"], result["moments"]
    assert len(values) == 2 * 2 * 64 and set(values.weights) == {"orthogonal", "Gaussian"}
    sums = histogram.groupby(["weights", "depth"]).fraction.sum()
    np.testing.assert_allclose(sums, 1.0)
    centre = histogram[(histogram.weights == "orthogonal") & (histogram.bin_start < 0)
                       & (histogram.bin_end > 0)]
    np.testing.assert_allclose(centre.fraction, 1.0)  # every s = 1 in the one bin at 1
    orthogonal = moments[moments.weights == "orthogonal"]
    np.testing.assert_allclose(orthogonal[["largest", "smallest"]], 1.0, atol=1e-5)
    gaussian = moments[moments.weights == "Gaussian"].set_index("depth")
    assert gaussian.theory_var_lambda.to_dict() == pytest.approx({2: 2.0, 8: 8.0})
    assert gaussian.measured_var_lambda[8] > 3 * gaussian.measured_var_lambda[2]
    text = phase.isometry_text("linear", moments)
    assert "depth 8" in text and "**orthogonal**" in text and "theory" in text
