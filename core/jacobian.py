"""core.jacobian.spectrum(spec): the singular values of the input-output Jacobian.

J = dh_L/dx at one input x (the first example the spec draws), of the network
core.per_layer measures (same weights from core.weights, same Keras activations, same
layer loop, skip connections included), computed with tf.GradientTape.batch_jacobian
in one traced function per (activation, residual, dtype). Its squared singular values
lambda = s^2 say whether every direction of the input survives the depth, not only the
average one (Saxe et al. 2013; Pennington, Schoenholz & Ganguli 2017).

Theory (free probability, infinite width; labelled as such wherever shown): with
mu1_l = E[phi'(z_l)^2], mu2_l = E[phi'(z_l)^4] at layer l's pre-activation variance q_l
(core.theory.mean_field) and sigma_w2 = n Var(W),
  mean lambda = prod_l sigma_w2 mu1_l            (chi_1^L at the fixed point)
  Var lambda  = mean^2 sum_l (mu2_l / mu1_l^2 - 1 + s),  s = 1 Gaussian W, 0 orthogonal,
which on the critical line is Pennington et al.'s L (mu2/mu1^2 - 1 + s).
"""
from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from . import theory
from .cache import memoize
from .spec import ModelSpec

COLUMNS = ["rank", "singular_value", "squared_singular_value", "theory_mean_lambda",
           "theory_var_lambda", "measured_mean_lambda", "measured_var_lambda"]
ORTHOGONAL_INITS = ("orthogonal", "identity")  # W W^T = gain^2 I: no spread of their own

_functions: dict = {}
_lock = threading.Lock()


def check(spec: ModelSpec) -> None:
    """ValueError if the Jacobian at one input is not defined for `spec`."""
    if spec.batch_norm:
        raise ValueError("batch_norm normalizes with batch statistics, so a network with "
                         "batch_norm has no Jacobian at one input: leave batch_norm off")


def _jacobian_function(activation: str, residual: bool, dtype: str):
    """The traced dh_L/dx for one input row (a tf.while_loop over the layers)."""
    key = (activation, residual, dtype)
    with _lock:
        if key in _functions:
            return _functions[key]
        from .activations import activation_fn
        from .per_layer import over_layers
        from .tf_setup import tf
        phi = activation_fn(activation)
        matrix = tf.TensorSpec([None, None], dtype)

        @tf.function(input_signature=[matrix, matrix, tf.TensorSpec([None, None, None], dtype),
                                      matrix, tf.TensorSpec([], dtype),
                                      tf.TensorSpec([], dtype)], reduce_retracing=True,
                     autograph=False)  # the loop: core.per_layer.over_layers
        def jacobian(x, first_kernel, kernels, biases, negative_slope, residual_scale):
            with tf.GradientTape() as tape:
                tape.watch(x)
                h = phi(tf.matmul(x, first_kernel) + biases[0], negative_slope)

                def next_layer(index, h):
                    out = phi(tf.matmul(h, kernels[index - 1]) + biases[index],
                              negative_slope)
                    return (residual_scale * out + h if residual else out,)
                h, = over_layers(tf.shape(biases)[0], next_layer, h)
            return tape.batch_jacobian(h, x)[0]  # (width, n_in): dh_L[i] / dx[j]

        _functions[key] = jacobian
        return jacobian


def jacobian_matrix(spec: ModelSpec) -> np.ndarray:
    """dh_L/dx at the spec's first input: shape (width, n_in), entry (i, j) dh_L[i]/dx[j]."""
    from .weights import make_data, make_weights
    check(spec)
    first, stack, biases, _ = make_weights(spec)
    if spec.no_bias:
        biases = np.zeros_like(biases)
    x = make_data(spec)[0][:1]
    jacobian = _jacobian_function(spec.activation, spec.residual, spec.dtype)
    return jacobian(x, first, stack, biases,
                    np.asarray(spec.negative_slope, dtype=spec.dtype),
                    np.asarray(spec.residual_scale, dtype=spec.dtype)).numpy()


def theory_moments(spec: ModelSpec) -> tuple[float, float]:
    """(mean, variance) of lambda = s^2 by free probability (nan with skips)."""
    if spec.residual or spec.batch_norm:
        return float("nan"), float("nan")
    mf = theory.mean_field(spec)
    act, a = spec.activation, spec.negative_slope
    spread = 0.0 if spec.init in ORTHOGONAL_INITS else 1.0
    log_mean, normalized_var = 0.0, 0.0
    for row in mf.itertuples():
        mu1 = theory.gaussian_mean(lambda z: theory.slope(act, z, a) ** 2,
                                   row.preactivation_var)
        mu2 = theory.gaussian_mean(lambda z: theory.slope(act, z, a) ** 4,
                                   row.preactivation_var)
        if mu1 <= 0:
            return 0.0, 0.0
        log_mean += np.log(row.sigma_w2 * mu1)
        normalized_var += mu2 / mu1 ** 2 - 1.0 + spread
    with np.errstate(over="ignore", under="ignore"):
        mean = float(np.exp(log_mean))
        return mean, float(mean ** 2 * normalized_var)


@memoize(entries=64)
def spectrum(spec: ModelSpec) -> pd.DataFrame:
    """One row per singular value of J (largest first): COLUMNS. ValueError if `spec`
    has no Jacobian at one input (batch norm)."""
    matrix = jacobian_matrix(spec).astype(np.float64)
    values = np.linalg.svd(matrix, compute_uv=False)
    squared = values ** 2
    mean, var = theory_moments(spec)
    table = pd.DataFrame({"rank": np.arange(1, len(values) + 1), "singular_value": values,
                          "squared_singular_value": squared})
    table["theory_mean_lambda"], table["theory_var_lambda"] = mean, var
    table["measured_mean_lambda"] = float(squared.mean())
    table["measured_var_lambda"] = float(squared.var())
    return table[COLUMNS]
