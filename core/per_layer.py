"""core.profile(spec): one real forward and backward pass, measured at every layer.

The network is the one core.keras_model builds with plain Keras layers (Dense,
BatchNormalization, Activation, Add) and the tests check the two agree. Here the same
computation runs as one traced TensorFlow function whose loop over layers is a
tf.while_loop: it is traced once per (activation, batch_norm, residual, dtype) and then
serves every depth, width, batch size, initializer and seed without retracing. That is
what makes a new configuration take milliseconds instead of seconds.

The back-propagated signal dLoss/dh_l is read exactly: a zero "probe" tensor is added
to every hidden output h_l, and tf.GradientTape's gradient with respect to that probe
is dLoss/dh_l.
"""
from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from .cache import memoize
from .activations import activation_fn, peak_slope, saturates
from .spec import ModelSpec
from .tf_setup import tf
from .weights import make_data, make_weights

BN_EPSILON = 1e-3  # keras.layers.BatchNormalization's default
SATURATION_SLOPE = 0.05  # saturated: slope below 5% of the activation's peak slope ...
SATURATION_MIN_Z = 2.0  # ... on a tail (|z| >= 2), not at an interior dip (GELU's)

COLUMNS = ["layer", "activation_mean", "activation_std", "activation_norm",
           "preactivation_std", "saturated_fraction", "dead_fraction",
           "signal_grad_norm", "weight_grad_norm", "weight_norm"]

SATURATION_DEFINITION = (
    "Saturated fraction: the share of (example, unit) pairs whose pre-activation z sits "
    "on a flat tail of the activation, where its slope is below 5% of its peak slope "
    "(and |z| >= 2). For tanh that is |tanh z| > 0.975, for sigmoid an output below "
    "0.013 or above 0.987. Linear, ReLU and Leaky ReLU have no asymptote and never "
    "saturate.")

def safe_norm(tensor, axes=None):
    """L2 norm that does not overflow while the entries themselves are finite: the
    entries are divided by the largest |entry| before squaring (and multiplied back)."""
    peak = tf.reduce_max(tf.abs(tensor), axis=axes, keepdims=True)
    usable = tf.logical_and(peak > 0, tf.math.is_finite(peak))
    divisor = tf.where(usable, peak, tf.ones_like(peak))
    total = tf.sqrt(tf.reduce_sum(tf.square(tensor / divisor), axis=axes, keepdims=True))
    return tf.squeeze(divisor * total, axis=axes) if axes is not None else tf.reshape(
        divisor * total, [])


def _build_step(activation: str, batch_norm: bool, residual: bool, dtype: str):
    phi = activation_fn(activation)
    saturating = saturates(activation)
    peak = peak_slope(activation)
    matrix = tf.TensorSpec([None, None], dtype)
    signature = [matrix, matrix, tf.TensorSpec([None, None, None], dtype), matrix, matrix,
                 matrix, tf.TensorSpec([], dtype)]

    @tf.function(input_signature=signature, reduce_retracing=True)
    def step(x, first_kernel, kernels, biases, readout, targets, negative_slope):
        depth = tf.shape(biases)[0]
        batch = tf.cast(tf.shape(x)[0], dtype)
        width = tf.shape(biases)[1]
        probes = tf.zeros([depth, tf.shape(x)[0], width], dtype)
        with tf.GradientTape() as tape:
            tape.watch([first_kernel, kernels, probes])
            kernel_list = tf.TensorArray(dtype, size=depth - 1, clear_after_read=False,
                                         infer_shape=False).unstack(kernels)
            probe_list = tf.TensorArray(dtype, size=depth, clear_after_read=False,
                                        infer_shape=False).unstack(probes)
            outputs = tf.TensorArray(dtype, size=depth, infer_shape=False)
            preactivations = tf.TensorArray(dtype, size=depth, infer_shape=False)

            def layer(index, h_prev, kernel, skip):
                z = tf.matmul(h_prev, kernel) + biases[index]
                if batch_norm:
                    mean, variance = tf.nn.moments(z, axes=[0], keepdims=True)
                    z = (z - mean) * tf.math.rsqrt(variance + BN_EPSILON)
                a = phi(z, negative_slope)
                out = a + h_prev if skip else a
                return out + probe_list.read(index), tf.stop_gradient(z)

            h, z = layer(0, x, first_kernel, skip=False)
            outputs = outputs.write(0, tf.stop_gradient(h))
            preactivations = preactivations.write(0, z)
            for index in tf.range(1, depth):
                h, z = layer(index, h, kernel_list.read(index - 1), skip=residual)
                outputs = outputs.write(index, tf.stop_gradient(h))
                preactivations = preactivations.write(index, z)
            prediction = tf.matmul(h, readout)
            loss = tf.reduce_mean(tf.square(prediction - targets))
        probe_grad, first_grad, kernel_grad = tape.gradient(
            loss, [probes, first_kernel, kernels],
            unconnected_gradients=tf.UnconnectedGradients.ZERO)
        signal = safe_norm(probe_grad, axes=[1, 2])
        weight_grad = tf.concat([safe_norm(first_grad)[None],
                                 safe_norm(kernel_grad, [1, 2])], 0)
        weight_norm = tf.concat([safe_norm(first_kernel)[None], safe_norm(kernels, [1, 2])],
                                0)
        # Statistics of every layer at once, on (depth, batch, width) stacks.
        h_all, z_all = outputs.stack(), preactivations.stack()
        with tf.GradientTape() as inner:  # the activation's slope at every z
            inner.watch(z_all)
            a_all = phi(z_all, negative_slope)
        slope = inner.gradient(a_all, z_all)
        silent = tf.logical_and(tf.equal(a_all, 0), tf.equal(slope, 0))
        dead = tf.reduce_mean(tf.cast(tf.reduce_all(silent, axis=1), dtype), axis=1)
        if saturating:
            flat = tf.logical_and(tf.abs(slope) < SATURATION_SLOPE * peak,
                                  tf.abs(z_all) >= SATURATION_MIN_Z)
            saturated = tf.reduce_mean(tf.cast(flat, dtype), axis=[1, 2])
        else:
            saturated = tf.zeros([depth], dtype)
        stats = tf.stack([
            tf.reduce_mean(h_all, axis=[1, 2]), tf.math.reduce_std(h_all, axis=[1, 2]),
            safe_norm(h_all, [1, 2]), tf.math.reduce_std(z_all, axis=[1, 2]), saturated, dead],
            axis=1)
        return stats, signal, weight_grad, weight_norm, loss, batch

    return step


_steps: dict = {}
_steps_lock = threading.Lock()


def _step_for(spec: ModelSpec):
    key = (spec.activation, spec.batch_norm, spec.residual, spec.dtype)
    with _steps_lock:
        if key not in _steps:
            _steps[key] = _build_step(*key)
        return _steps[key]


def run_step(spec: ModelSpec, weights=None, data=None):
    """One traced forward and backward pass: (stats, signal, weight_grad, weight_norm,
    loss, batch) tensors. `weights` and `data` default to those the spec draws; callers
    that share one draw across several activations (the Initialization grid) pass them."""
    first, stack, biases, readout = make_weights(spec) if weights is None else weights
    x, targets = make_data(spec) if data is None else data
    if spec.no_bias:
        biases = np.zeros_like(biases)
    return _step_for(spec)(x, first, stack, biases, readout, targets,
                           np.asarray(spec.negative_slope, dtype=spec.dtype))


def compute_profile(spec: ModelSpec) -> pd.DataFrame:
    """The per-layer table for `spec`, computed now (no cache)."""
    data = make_data(spec)
    stats, signal, weight_grad, weight_norm, loss, _ = run_step(spec, data=data)
    x = data[0]
    stats = stats.numpy()
    table = pd.DataFrame({
        "layer": np.arange(1, spec.depth + 1),
        "activation_mean": stats[:, 0], "activation_std": stats[:, 1],
        "activation_norm": stats[:, 2], "preactivation_std": stats[:, 3],
        "saturated_fraction": stats[:, 4], "dead_fraction": stats[:, 5],
        "signal_grad_norm": signal.numpy(), "weight_grad_norm": weight_grad.numpy(),
        "weight_norm": weight_norm.numpy(),
    })
    table = table[COLUMNS]
    table.attrs["loss"] = float(loss.numpy())
    table.attrs["input_norm"] = float(np.linalg.norm(x.astype(np.float64)))
    return table


@memoize(entries=64)
def _profile(spec: ModelSpec) -> pd.DataFrame:
    return compute_profile(spec)


def profile(spec: ModelSpec) -> pd.DataFrame:
    """One row per hidden layer (layer 1 nearest the input); see COLUMNS.

    Cached by core.cache (keyed by the frozen spec); every call returns a fresh copy.
    """
    if not isinstance(spec, ModelSpec):
        raise TypeError("profile() takes a core.ModelSpec")
    return _profile(spec)


def is_cached(spec: ModelSpec) -> bool:
    """Whether `profile(spec)` would answer from the cache (no TensorFlow work)."""
    return _profile.contains(spec)
