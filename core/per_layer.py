"""core.profile(spec): one real forward and backward pass, measured at every layer.

The network is the one core.keras_model builds with plain Keras layers (Dense,
BatchNormalization, Activation, Add) and the tests check the two agree. Here the same
computation runs as one traced TensorFlow function whose loop over layers is a
tf.while_loop and whose activation is an index tensor (as in core.through_time): it is
traced once per (batch_norm, residual, dtype) and then serves every activation, depth,
width, batch size, initializer, residual scale and seed without retracing. That is what
makes a new configuration, including the first use of an activation, take milliseconds
instead of seconds (see SINGLE_GRAPH for the measured choice).

The back-propagated signal dLoss/dh_l and the weight gradient dLoss/dW_l are read
exactly, as norms, inside the backward pass (see `measured` in _build_step), and every
layer's forward statistics inside the forward loop: no (depth, batch, width) stack is
kept (with them, a pass at depth 150 x 128 x 256 took about 0.12-0.15 s; now 0.07-0.11 s,
benchmarks/bench_first_choice.py).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from .cache import memoize
from .activations import activation_fn, peak_slope, saturates
from .spec import ACTIVATIONS, ModelSpec
from .tf_setup import tf
from .weights import make_data, make_weights

BN_EPSILON = 1e-3  # keras.layers.BatchNormalization's default
SATURATION_SLOPE = 0.05  # saturated: slope below 5% of the activation's peak slope ...
SATURATION_MIN_Z = 2.0  # ... on a tail (|z| >= 2), not at an interior dip (GELU's)
HALF = ("float16", "bfloat16")  # 16-bit formats: statistics summed in float32

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


def unit_fractions(a, slope, z, saturating, peak, dtype):
    """(dead, saturated) fraction per layer of (depth, batch, width) stacks of outputs,
    slopes and pre-activations, as SATURATION_DEFINITION and dead units are defined:
    dead, a unit whose output and slope are 0 for every example; saturated, a slope
    below SATURATION_SLOPE x `peak` with |z| >= SATURATION_MIN_Z. `saturating`: a Python
    bool, or a boolean tensor (the one graph for every activation). Results in `dtype`.
    Shared by this pass and core.training's step."""
    silent = tf.logical_and(tf.equal(a, 0), tf.equal(slope, 0))
    dead = tf.reduce_mean(tf.cast(tf.reduce_all(silent, axis=1), dtype), axis=1)

    def saturated_fraction():
        # SATURATION_SLOPE * peak rounded to the slope's dtype once, as a Python float is
        threshold = tf.cast(SATURATION_SLOPE * tf.cast(peak, tf.float64), slope.dtype)
        flat = tf.logical_and(tf.abs(slope) < threshold, tf.abs(z) >= SATURATION_MIN_Z)
        return tf.reduce_mean(tf.cast(flat, dtype), axis=[1, 2])

    def none():
        return tf.zeros_like(dead)
    if isinstance(saturating, bool):
        return dead, saturated_fraction() if saturating else none()
    return dead, tf.cond(saturating, saturated_fraction, none)


def over_layers(depth, next_layer, *state):
    """The state after next_layer(index, *state) -> new state, for index 1 .. depth - 1:
    a network's loop over its layers after the first, as one tf.while_loop (the passes
    are traced without AutoGraph, so the loop is written as what it is)."""
    _, *state = tf.while_loop(
        lambda index, *_: index < depth,
        lambda index, *state: (index + 1, *next_layer(index, *state)),
        (tf.constant(1), *state))
    return state


def _slope_of(fn, z, negative_slope, upstream=None):
    """fn(z) and its derivative at z times `upstream` (default ones: the slope), by
    the function's own registered gradient."""
    with tf.GradientTape() as tape:
        tape.watch(z)
        out = fn(z, negative_slope)
    return out, tape.gradient(out, z, output_gradients=upstream)


def _activation_choice(activation: str | None, index):
    """(phi, saturating, peak) for one traced graph; phi(z, negative_slope) gives the
    activation a = phi(z), differentiable, and its slope phi'(z) (a constant to the
    tape), which the layer's statistics read.

    With a name, the activation is fixed when the graph is traced (one graph per
    activation). With None, `index` (a scalar int32 tensor, ACTIVATIONS.index(name))
    chooses it inside the graph, so one trace serves every activation:
    - forward, a tf.switch_case runs the chosen activation's Keras function (and its
      slope) only;
    - backward, a custom gradient runs, in a second tf.switch_case, the chosen
      function's own registered gradient (an inner tape over the same ops, fed the same
      upstream gradient), so every derivative is the one the fixed graph computes.
      (Differentiating the switch_case itself is not an option: TensorFlow's case
      gradient fails inside a while loop when a branch has a custom gradient, as
      keras.activations.swish = tf.nn.silu has.)
    - `saturating` and `peak` are read from constant tables by the index.
    Tests check every activation against the fixed graphs and plain Keras."""
    if activation is not None:
        fixed = activation_fn(activation)

        def phi(z, negative_slope):
            value, slope = _slope_of(fixed, z, negative_slope)
            return value, tf.stop_gradient(slope)
        return phi, saturates(activation), peak_slope(activation)
    functions = [activation_fn(name) for name in ACTIVATIONS]

    def phi(z, negative_slope):
        @tf.custom_gradient
        def chosen(z):
            value, slope = tf.switch_case(
                index, [lambda fn=fn: _slope_of(fn, z, negative_slope) for fn in functions])

            def grad(upstream, _):
                return tf.switch_case(index, [
                    lambda fn=fn: _slope_of(fn, z, negative_slope, upstream)[1]
                    for fn in functions])
            return (value, tf.stop_gradient(slope)), grad
        return chosen(z)

    saturating = tf.gather(tf.constant([saturates(name) for name in ACTIVATIONS]), index)
    peak = tf.gather(tf.constant([peak_slope(name) for name in ACTIVATIONS], tf.float64),
                     index)
    return phi, saturating, peak


def _build_step(activation: str | None, batch_norm: bool, residual: bool, dtype: str):
    """The traced pass; `activation` None: one graph for every activation (see
    _activation_choice), else a graph for that activation only."""
    matrix = tf.TensorSpec([None, None], dtype)
    signature = [matrix, matrix, tf.TensorSpec([None, None, None], dtype), matrix, matrix,
                 matrix, tf.TensorSpec([], dtype), tf.TensorSpec([], tf.int32),
                 tf.TensorSpec([], dtype)]

    # autograph=False: the loop is written as the tf.while_loop it is (over_layers,
    # which core.phase_pass, core.jacobian and core.finite_width share). AutoGraph's
    # conversion of this function and everything it calls (82 functions, the Keras
    # activations among them) was about 0.6 s of a first trace of 1.65 s; without it the
    # first trace takes 0.9-1.0 s (The problem's default, fresh process), and that
    # trace is on the way to a cold server's first chart.
    @tf.function(input_signature=signature, reduce_retracing=True, autograph=False)
    def step(x, first_kernel, kernels, biases, readout, targets, negative_slope,
             activation_index, residual_scale):
        phi, saturating, peak = _activation_choice(activation, activation_index)
        depth = tf.shape(biases)[0]
        batch = tf.cast(tf.shape(x)[0], dtype)
        # Means, stds and fractions of half-precision tensors are taken in float32 (summed
        # in float16 or bfloat16 they would be off by percents); norms stay in the format,
        # as a float16 network computes them (in float16 ‖h_l‖ passes 65504 before any
        # one entry does).
        wide = tf.float32 if dtype in HALF else dtype

        def statistics(h, z, a, slope):
            """One layer's row of statistics, taken inside the loop on its (batch,
            width) tensors: on stacks of every layer after the loop they cost more than
            the whole backward pass (20 MB tensors copied, then read a dozen times)."""
            dead, saturated = unit_fractions(a[None], slope[None], z[None], saturating,
                                             peak, wide)
            h_wide, z_wide = tf.cast(h, wide), tf.cast(z, wide)
            return tf.stack([tf.reduce_mean(h_wide), tf.math.reduce_std(h_wide),
                             tf.cast(safe_norm(h), wide), tf.math.reduce_std(z_wide),
                             saturated[0], dead[0]])

        # Two norms per layer are read off the backward pass: ||dLoss/dh_l|| and
        # ||dLoss/dW_l||. Each tensor is passed through `measured`, an identity whose
        # gradient function hands its upstream gradient on unchanged and returns that
        # gradient's norm as the gradient of a scalar "token" (one per layer). The
        # gradient with respect to the tokens is then the (depth,) vector of norms; no
        # (depth, batch, width) stack of gradients is kept.
        signal_tokens = tf.zeros([depth], dtype)
        weight_tokens = tf.zeros([depth], dtype)

        @tf.custom_gradient
        def measured(value, token):
            return tf.identity(value), lambda upstream: (upstream, safe_norm(upstream))

        with tf.GradientTape() as tape:
            tape.watch([signal_tokens, weight_tokens])
            kernel_list = tf.TensorArray(dtype, size=depth - 1, clear_after_read=False,
                                         infer_shape=False).unstack(kernels)
            rows = tf.TensorArray(wide, size=depth)

            def layer(index, h_prev, kernel, skip):
                kernel = measured(kernel, weight_tokens[index])
                z = tf.matmul(h_prev, kernel) + biases[index]
                if batch_norm:
                    mean, variance = tf.nn.moments(z, axes=[0], keepdims=True)
                    z = (z - mean) * tf.math.rsqrt(variance + BN_EPSILON)
                a, slope = phi(z, negative_slope)
                # residual_scale x a is exactly a at scale 1 (x * 1.0 is exact in IEEE)
                out = residual_scale * a + h_prev if skip else a
                return (measured(out, signal_tokens[index]),
                        statistics(tf.stop_gradient(out), tf.stop_gradient(z),
                                   tf.stop_gradient(a), slope))

            h, row = layer(0, x, first_kernel, skip=False)
            rows = rows.write(0, row)

            def next_layer(index, h, rows):
                h, row = layer(index, h, kernel_list.read(index - 1), skip=residual)
                return h, rows.write(index, row)
            h, rows = over_layers(depth, next_layer, h, rows)
            prediction = tf.matmul(h, readout)
            loss = tf.reduce_mean(tf.square(prediction - targets))
        signal, weight_grad = tape.gradient(
            loss, [signal_tokens, weight_tokens],
            unconnected_gradients=tf.UnconnectedGradients.ZERO)
        weight_norm = tf.concat([safe_norm(first_kernel)[None], safe_norm(kernels, [1, 2])],
                                0)
        stats = rows.stack()
        return stats, signal, weight_grad, weight_norm, loss, batch

    return step


# The choice (issue 10, point 3), measured by benchmarks/bench_first_choice.py on a quiet
# machine (2 rounds, depth 150 x 128 x 256, new activation, initializer and seed each
# call): (a) one graph, median 0.145 s; (b) a graph per activation traced at start-up,
# 0.141 s; naive Keras 0.914 s. (a) is chosen: its start-up trace takes 1.2 s against
# 4.7-4.9 s for (b)'s ten (per key; the app warms four), and a visitor who arrives
# before the warm-up has finished waits 1.6 s for the Initialization grid, against 3.2 s.
# (Both traced without AutoGraph; with it, 1.7 s against 4.9 s, and 2.3 s against 3.9 s.)
SINGLE_GRAPH = True

_steps: dict = {}
_steps_lock = threading.Lock()


def _step_for(spec: ModelSpec, single_graph: bool | None = None):
    """The traced step for `spec`: the one graph for every activation (SINGLE_GRAPH), or
    the graph of spec.activation alone (single_graph=False: the earlier design, kept as
    the reference the tests compare against)."""
    single = SINGLE_GRAPH if single_graph is None else single_graph
    key = (None if single else spec.activation, spec.batch_norm, spec.residual,
           spec.dtype)
    with _steps_lock:
        if key not in _steps:
            _steps[key] = _build_step(*key)
        return _steps[key]


def run_step(spec: ModelSpec, weights=None, data=None, single_graph: bool | None = None):
    """One traced forward and backward pass: (stats, signal, weight_grad, weight_norm,
    loss, batch) tensors. `weights` and `data` default to those the spec draws; callers
    that share one draw across several activations (the Initialization grid) pass them."""
    first, stack, biases, readout = make_weights(spec) if weights is None else weights
    x, targets = make_data(spec) if data is None else data
    if spec.no_bias:
        biases = np.zeros_like(biases)
    return _step_for(spec, single_graph)(
        x, first, stack, biases, readout, targets,
        np.asarray(spec.negative_slope, dtype=spec.dtype),
        np.int32(ACTIVATIONS.index(spec.activation)),
        np.asarray(spec.residual_scale, dtype=spec.dtype))


def compute_profile(spec: ModelSpec, single_graph: bool | None = None) -> pd.DataFrame:
    """The per-layer table for `spec`, computed now (no cache). `single_graph`: see
    _step_for (default: the module's choice)."""
    data = make_data(spec)
    stats, signal, weight_grad, weight_norm, loss, _ = run_step(spec, data=data,
                                                                single_graph=single_graph)
    x = data[0]
    # float16 and bfloat16 results as float64 columns (their values, inf and 0 kept)
    stats, signal, weight_grad, weight_norm = (np.asarray(t.numpy(), dtype=np.float64) for t
                                               in (stats, signal, weight_grad, weight_norm))
    table = pd.DataFrame({
        "layer": np.arange(1, spec.depth + 1),
        "activation_mean": stats[:, 0], "activation_std": stats[:, 1],
        "activation_norm": stats[:, 2], "preactivation_std": stats[:, 3],
        "saturated_fraction": stats[:, 4], "dead_fraction": stats[:, 5],
        "signal_grad_norm": signal, "weight_grad_norm": weight_grad,
        "weight_norm": weight_norm,
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


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def profiles(specs) -> list[pd.DataFrame]:
    """profile() of each spec, in order. The ones not cached yet are measured side by
    side, on the calling thread and up to one more (a page's several networks: Why's
    seeds, Initialization's initializers). TensorFlow runs a pass without the GIL, so
    two passes take two cores; a single profile() runs on one."""
    specs = list(specs)
    missing = [spec for spec in dict.fromkeys(specs) if not is_cached(spec)]
    if len(missing) > 1:
        global _pool
        with _pool_lock:
            if _pool is None:
                helpers = max(1, min(2, os.cpu_count() or 1) - 1)
                _pool = ThreadPoolExecutor(helpers, thread_name_prefix="profiles")
        futures = [_pool.submit(profile, spec) for spec in missing[1::2]]
        for spec in missing[0::2]:
            profile(spec)
        for future in futures:
            future.result()
    return [profile(spec) for spec in specs]


def is_cached(spec: ModelSpec) -> bool:
    """Whether `profile(spec)` would answer from the cache (no TensorFlow work)."""
    return _profile.contains(spec)


# The graphs the pages ask for, most wanted first: plain float32 networks (every topic
# page), float64 (The problem's number format), then Remedies' batch norm and skip
# connections. Each is one (batch_norm, residual, dtype) key of _step_for.
WARM_KEYS = ((False, False, "float32"), (False, False, "float64"),
             (True, False, "float32"), (False, True, "float32"))
# The Problem page's 16-bit formats: traced last, after everything above, so that they
# add nothing to the time before the first page is ready.
HALF_KEYS = ((False, False, "float16"), (False, False, "bfloat16"))
FULL_SIZE = dict(depth=150, width=128, batch_size=256)  # the largest pass the pages run


def warm_up(single_graph: bool | None = None, keys=WARM_KEYS, full_size: bool = True):
    """Trace the pass for every key in `keys`, so that no visitor's first choice waits
    for a trace, and run one pass at FULL_SIZE (the first pass at a new size also pays
    for memory and oneDNN's kernels). Uncached: leaves core.cache as it was.

    With the single graph that is one trace per key, whatever the activation. With
    single_graph=False (design (b), one graph per activation) it is one trace per key
    and activation: ten times as many (benchmarks/bench_first_choice.py times both).
    Returns the seconds each key took. pages/warmup.py runs this once per process, in a
    background thread."""
    import time
    names = [None] if (SINGLE_GRAPH if single_graph is None else single_graph) \
        else ACTIVATIONS
    seconds = {}
    for batch_norm, residual, dtype in keys:
        start = time.perf_counter()
        for name in names:
            spec = ModelSpec(depth=2, width=8, batch_size=4, dtype=dtype,
                             batch_norm=batch_norm, residual=residual,
                             activation=name or "tanh")
            run_step(spec, single_graph=single_graph)[0].numpy()
        if full_size and (batch_norm, residual, dtype) == keys[0]:
            run_step(ModelSpec(**FULL_SIZE, batch_norm=batch_norm, residual=residual,
                               dtype=dtype), single_graph=single_graph)[0].numpy()
        seconds[(batch_norm, residual, dtype)] = time.perf_counter() - start
    return seconds
