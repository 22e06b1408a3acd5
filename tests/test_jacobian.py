"""core.jacobian: dh_L/dx by tf.GradientTape against the explicit product, isometry."""
import math

import numpy as np
import pytest

from core import jacobian
from core.spec import ModelSpec


def explicit_product(spec: ModelSpec) -> np.ndarray:
    """J = prod_l D_l W_l^T in float64 numpy, from the same weights and input."""
    from core import theory
    from core.weights import make_data, make_weights
    first, stack, biases, _ = (np.asarray(w, dtype=np.float64) for w in make_weights(spec))
    if spec.no_bias:
        biases = np.zeros_like(biases)
    h = make_data(spec)[0][:1].astype(np.float64)
    product = np.eye(spec.n_in)
    for index, kernel in enumerate([first, *stack]):
        z = h @ kernel + biases[index]
        slope = theory.slope(spec.activation, z, spec.negative_slope)[0]
        out = theory.phi(spec.activation, z, spec.negative_slope)
        step = kernel * slope  # d out / d h
        if spec.residual and index > 0:
            step = spec.residual_scale * step + np.eye(spec.width)
            out = spec.residual_scale * out + h
        product, h = product @ step, out
    return product.T  # (width, n_in)


@pytest.mark.parametrize("overrides", [
    dict(activation="tanh", init="glorot_normal", bias_stddev=0.3),
    dict(activation="relu", init="he_normal", input_dim=12),
    dict(activation="leaky_relu", negative_slope=0.2, init="orthogonal", residual=True),
    dict(activation="tanh", init="lecun_normal", residual=True, residual_scale=0.3),
])
def test_tape_jacobian_is_the_product_of_the_layers(overrides):
    spec = ModelSpec(depth=6, width=16, dtype="float64", **overrides)
    np.testing.assert_allclose(jacobian.jacobian_matrix(spec), explicit_product(spec),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype, depth", [("float32", 50), ("float64", 100)])
def test_linear_orthogonal_net_is_exactly_isometric(dtype, depth):
    spec = ModelSpec(depth=depth, width=256, batch_size=1, activation="linear",
                     init="orthogonal", no_bias=True, dtype=dtype)
    table = jacobian.spectrum(spec)
    assert len(table) == 256
    np.testing.assert_allclose(table.singular_value, 1.0, atol=1e-5)
    assert table.theory_mean_lambda.iloc[0] == pytest.approx(1.0)
    assert table.theory_var_lambda.iloc[0] == 0.0


def test_gaussian_linear_net_spreads_linearly_with_depth():
    """Fuss-Catalan: Var(lambda) = L for a product of L Gaussian matrices (n -> inf)."""
    depths = np.array([4, 8, 16])
    variances = []
    for depth in depths:
        runs = [jacobian.spectrum(ModelSpec(
            depth=int(depth), width=256, activation="linear", init="variance_scaling",
            no_bias=True, seed=seed)) for seed in range(3)]
        variances.append(np.mean([run.measured_var_lambda.iloc[0] for run in runs]))
        assert runs[0].theory_var_lambda.iloc[0] == pytest.approx(depth)
        assert np.mean([run.measured_mean_lambda.iloc[0] for run in runs]) == \
            pytest.approx(1.0, abs=0.1)
    np.testing.assert_allclose(variances, depths, rtol=0.25)
    slope = np.polyfit(depths, variances, 1)[0]
    assert slope == pytest.approx(1.0, abs=0.3)


def test_relu_is_never_isometric_in_theory():
    """phi'^2 is 0 or 1, so mu2 / mu1^2 = 2: Var(lambda) >= L even with orthogonal W."""
    for init, gain, per_layer in (("orthogonal", math.sqrt(2), 1.0), ("he_normal", 1.0,
                                                                      2.0)):
        spec = ModelSpec(depth=10, width=64, activation="relu", init=init, gain=gain,
                         no_bias=True)
        mean, var = jacobian.theory_moments(spec)
        assert mean == pytest.approx(1.0, rel=0.02)  # He: weight_variance is 2/n
        assert var == pytest.approx(10 * per_layer * mean ** 2, rel=1e-6)


def test_tanh_orthogonal_near_zero_q_is_nearly_isometric():
    from core.experiments.phase import isometry_spec
    orthogonal = jacobian.spectrum(isometry_spec("tanh", "orthogonal", 32))
    gaussian = jacobian.spectrum(isometry_spec("tanh", "Gaussian", 32))
    assert orthogonal.theory_var_lambda.iloc[0] < 0.2 * gaussian.theory_var_lambda.iloc[0]
    assert orthogonal.measured_var_lambda.iloc[0] < 0.2 * gaussian.measured_var_lambda.iloc[0]
    assert orthogonal.measured_var_lambda.iloc[0] == pytest.approx(
        orthogonal.theory_var_lambda.iloc[0], rel=0.35)  # width 256: a statistical match


def test_batch_norm_has_no_jacobian_at_one_input():
    with pytest.raises(ValueError, match="batch_norm"):
        jacobian.spectrum(ModelSpec(depth=3, width=8, batch_norm=True))


def test_the_input_is_the_first_example_whatever_the_batch_size():
    one = ModelSpec(depth=3, width=16, batch_size=1, activation="tanh")
    np.testing.assert_array_equal(jacobian.jacobian_matrix(one),
                                  jacobian.jacobian_matrix(one.replace(batch_size=64)))
