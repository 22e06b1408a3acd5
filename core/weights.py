"""The network's initial weights, drawn with Keras' own initializers, and its data.

Hidden layers 2..depth all have the same shape, so their kernels are drawn in one call
as a (depth-1, width, width) stack. Keras' VarianceScaling takes `input_axes` and
`output_axes`, so every slice gets exactly the per-layer fan-in and fan-out a Dense
layer would. Both the fast profiler and the plain Keras model (core.keras_model) use
these weights, so they compute on identical numbers.

`layer_seed` is the app's one seed formula (every engine derives its draws' seeds
from it); it needs no TensorFlow, so this module loads Keras only when it draws.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .spec import READOUT_UNITS, VARIANCE_SCALING, ModelSpec


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def drawing_pool() -> ThreadPoolExecutor:
    """The process's threads for independent weight draws (a seed's network, a model's
    variable): each draw is a Keras initializer's stateless random op, which runs on
    one core without the GIL, so two draw side by side (measured: 100 seeds of depth
    50 x width 128, 5.1 s serial, 3.6 s on two threads). Its tasks never wait on it."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1),
                                       thread_name_prefix="weight-draw")
        return _pool


def layer_seed(seed: int, index: int) -> int:
    """A distinct, reproducible seed for draw number `index` of a spec's seed: the one
    seed formula of the app (per-layer networks, recurrent networks, training)."""
    return (seed * 1_000_003 + 7919 * index + 1) % (2 ** 31 - 1)


def kernel_initializer(spec: ModelSpec, seed: int, stacked: bool = False):
    """The Keras initializer for spec.init; `stacked` for a (layers, n_in, n_out) shape."""
    from .tf_setup import keras
    init = keras.initializers
    if spec.init == "random_normal":
        return init.RandomNormal(mean=0.0, stddev=spec.stddev, seed=seed)
    if spec.init == "random_uniform":
        return init.RandomUniform(minval=-spec.limit, maxval=spec.limit, seed=seed)
    if spec.init == "identity":
        return init.Identity(gain=spec.gain)
    if spec.init == "orthogonal":
        return init.Orthogonal(gain=spec.gain, seed=seed)
    if spec.init == "variance_scaling":
        scale, mode, distribution = spec.scale, "fan_in", "untruncated_normal"
    else:
        scale, mode, distribution = VARIANCE_SCALING[spec.init]
    axes = dict(input_axes=[1], output_axes=[2]) if stacked else {}
    return init.VarianceScaling(scale=scale, mode=mode, distribution=distribution,
                                seed=seed, **axes)


def _stacked_kernels(spec: ModelSpec, count: int, seed: int):
    from .tf_setup import keras
    shape = (count, spec.width, spec.width)
    if spec.init == "identity":
        return spec.gain * np.broadcast_to(np.eye(spec.width, dtype=spec.dtype), shape)
    if spec.init == "orthogonal":
        # keras.initializers.Orthogonal's algorithm, batched: QR of a normal matrix,
        # signs fixed by diag(R) so that Q is uniform (Haar) on the orthogonal group.
        ops = keras.ops
        q, r = ops.qr(keras.random.normal(shape, seed=seed, dtype=spec.dtype))
        signs = ops.sign(ops.diagonal(r, axis1=-2, axis2=-1))
        return np.asarray(spec.gain * q * signs[:, None, :])
    return np.asarray(kernel_initializer(spec, seed, stacked=True)(shape, dtype=spec.dtype))


def make_weights(spec: ModelSpec):
    """(first kernel, stacked kernels of layers 2..depth, biases (depth, width), readout)."""
    from .tf_setup import keras
    first = np.asarray(kernel_initializer(spec, layer_seed(spec.seed, 1))(
        (spec.n_in, spec.width), dtype=spec.dtype))
    if spec.depth > 1:
        stack = _stacked_kernels(spec, spec.depth - 1, layer_seed(spec.seed, 2))
    else:
        stack = np.zeros((0, spec.width, spec.width), dtype=spec.dtype)
    if spec.bias_stddev > 0 and not spec.no_bias:
        biases = keras.initializers.RandomNormal(stddev=spec.bias_stddev,
                                                 seed=layer_seed(spec.seed, 3))(
            (spec.depth, spec.width), dtype=spec.dtype)
    else:
        biases = np.zeros((spec.depth, spec.width), dtype=spec.dtype)
    readout = keras.initializers.GlorotUniform(seed=layer_seed(spec.seed, 0))(
        (spec.width, READOUT_UNITS), dtype=spec.dtype)
    return first, np.asarray(stack), np.asarray(biases), np.asarray(readout)


def make_data(spec: ModelSpec):
    """Inputs x ~ N(0, input_std^2) and regression targets ~ N(0, 1), from the seed."""
    rng = np.random.default_rng([spec.seed, 2026])
    x = rng.normal(0.0, spec.input_std, size=(spec.batch_size, spec.n_in))
    targets = rng.normal(0.0, 1.0, size=(spec.batch_size, READOUT_UNITS))
    return x.astype(spec.dtype), targets.astype(spec.dtype)
