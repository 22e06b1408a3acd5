"""Many grid points of the phase diagram in one traced pass (core.experiments.phase).

Every point of a (sigma_w2, sigma_b2) grid uses the same unit draw of weights, biases
and data, scaled: W = sqrt(sigma_w2) W_1, b = sqrt(sigma_b2) b_1 (core.weights draws
exactly that; tests check). So G points stack into one batch of G x B rows that share
each layer's matmul, z = sqrt(sigma_w2_g) (h W_1) + sqrt(sigma_b2_g) b_1, and one
tf.GradientTape gives every point's dLoss/dh_1 and dLoss/dh_L: the total loss is the sum
of the points' losses, which do not interact. The result is the signal ratio that
core.per_layer's pass measures for each point's ModelSpec (tests compare, to float32
rounding); core.per_layer stays the reference and measures any single network.
"""
from __future__ import annotations

import threading

import numpy as np

_passes: dict = {}
_lock = threading.Lock()


def _build(activation: str, dtype: str):
    from .activations import activation_fn
    from .per_layer import over_layers, safe_norm
    from .tf_setup import tf
    phi = activation_fn(activation)
    matrix, vector = tf.TensorSpec([None, None], dtype), tf.TensorSpec([None], dtype)

    @tf.function(input_signature=[matrix, matrix, tf.TensorSpec([None, None, None], dtype),
                                  matrix, matrix, matrix, vector, vector,
                                  tf.TensorSpec([], dtype)], reduce_retracing=True,
                 autograph=False)  # the loop: core.per_layer.over_layers
    def signal_ends(x, first, kernels, biases, readout, targets, w_scale, b_scale,
                    negative_slope):
        """(||dLoss/dh_1||, ||dLoss/dh_L||) of each of G points: x (B, n_in), w_scale and
        b_scale (G,)."""
        points, batch = tf.shape(w_scale)[0], tf.shape(x)[0]
        width = tf.shape(biases)[1]
        rows_w = tf.repeat(w_scale, batch)[:, None]  # (G B, 1): each row's point
        rows_b = tf.repeat(b_scale, batch)[:, None]
        h1 = phi(rows_w * tf.tile(tf.matmul(x, first), [points, 1]) + rows_b * biases[0],
                 negative_slope)
        with tf.GradientTape() as tape:
            tape.watch(h1)

            def next_layer(index, h):
                return (phi(rows_w * tf.matmul(h, kernels[index - 1])
                            + rows_b * biases[index], negative_slope),)
            h, = over_layers(tf.shape(biases)[0], next_layer, h1)
            h_last = tf.identity(h)
            error = tf.reshape(tf.matmul(h_last, readout), [points, batch, -1]) - targets
            # each point's mean squared error, summed over points (they do not interact)
            loss = tf.reduce_sum(tf.reduce_mean(tf.square(error), axis=[1, 2]))
        first_grad, last_grad = tape.gradient(loss, [h1, h_last])
        shape = [points, batch, width]
        return (safe_norm(tf.reshape(first_grad, shape), axes=[1, 2]),
                safe_norm(tf.reshape(last_grad, shape), axes=[1, 2]))

    return signal_ends


def signal_ends(activation: str, weights, data, sigma_w2, sigma_b2,
                negative_slope: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """(||dLoss/dh_1||, ||dLoss/dh_L||) per point, for the unit draw `weights`
    (make_weights of scale 1, bias_stddev 1) and `data` scaled to each (sigma_w2,
    sigma_b2) pair."""
    first, stack, biases, readout = weights
    x, targets = data
    dtype = str(first.dtype)
    with _lock:
        key = (activation, dtype)
        if key not in _passes:
            _passes[key] = _build(activation, dtype)
        run = _passes[key]
    w_scale = np.sqrt(np.asarray(sigma_w2, dtype=np.float64)).astype(dtype)
    b_scale = np.sqrt(np.asarray(sigma_b2, dtype=np.float64)).astype(dtype)
    first_norm, last_norm = run(x, first, stack, biases, readout, targets, w_scale,
                                b_scale, np.asarray(negative_slope, dtype=dtype))
    return first_norm.numpy().astype(np.float64), last_norm.numpy().astype(np.float64)
