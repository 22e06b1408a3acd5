"""core.through_time(spec): the gradient through time of a recurrent network.

A recurrent cell (Keras' SimpleRNNCell, LSTMCell or GRUCell, default settings) reads a
sequence of N(0, 1) inputs; the loss depends only on the last state h_T. Unrolled step by
step, the loss's gradient with respect to every state h_t is observable: a zero "probe"
tensor is added to each h_t and tf.GradientTape's gradient with respect to that probe is
d(loss)/d(h_t) exactly (as in core.per_layer for layers).

Fast path: one tf.function per (cell, dtype) whose loop over steps is a tf.while_loop
and whose weights and activation (an index into ACTIVATIONS) are tensor arguments, so a
new configuration (activation, steps, units, gain, seed, forget bias...) reuses the
trace. (One function per activation too would be traced up to 9 times per dtype from the
same Python code, and TensorFlow warns about "retracing" after 5 traces in 10 calls.)
It computes the Keras cells' equations (fused "implementation 2" for LSTM,
reset_after=True for GRU); the tests check it against
core.recurrent_keras.keras_reference_profile, which calls the real keras.layers cells
step by step in eager mode (the slow, obvious way; also the benchmark's baseline). For
the LSTM, the carry c_t is probed too (before h_t = o_t * phi(c_t) is computed):
cell_grad_norm is the total d(loss)/d(c_t).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .cache import memoize
from .spec import Spec, spec_field

CELLS = ("simple", "lstm", "gru")
CELL_NAMES = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
GATES = {"simple": 1, "lstm": 4, "gru": 3}
ACTIVATIONS = ("tanh", "linear", "relu")
RECURRENT_INITS = ("orthogonal", "random_normal", "glorot_uniform", "identity")
DTYPES = ("float32", "float64")

LOSS_DESCRIPTION = (
    "Loss: mean squared error between the last state h_T and fixed N(0, 1) targets, "
    "averaged over the batch and the units. Inputs x_t: 8 features (default) ~ N(0, 1); "
    "input kernel glorot_uniform and zero biases (Keras' defaults; LSTM forget "
    "gate bias as chosen).")


_f = spec_field


@dataclass(frozen=True)
class ThroughTimeSpec(Spec):
    """One recurrent cell unrolled over `steps` time steps."""
    cell: str = _f("simple", "recurrent cell: SimpleRNN, LSTM or GRU", choices=CELLS,
                   kind=str)
    activation: str = _f("tanh", "the cell's activation", choices=ACTIVATIONS, kind=str)
    recurrent_init: str = _f("orthogonal", "initializer of the recurrent kernel",
                             choices=RECURRENT_INITS, kind=str)
    gain: float = _f(1.0, "orthogonal / identity: recurrent kernel = gain * Q or gain * I",
                     low=0.0, high=3.0, kind=float)
    stddev: float = _f(0.05, "random_normal: standard deviation of the recurrent kernel",
                       low=0.0, high=2.0, kind=float, open_low=True)
    steps: int = _f(50, "time steps T", low=2, high=200, kind=int)
    units: int = _f(32, "units of the cell", low=2, high=256, kind=int)
    features: int = _f(8, "input features per time step", low=1, high=256, kind=int)
    forget_bias: float = _f(1.0, "LSTM: initial bias of the forget gate (Keras: 1)",
                            low=-10.0, high=10.0, kind=float)
    batch_size: int = _f(32, "sequences in the batch", low=1, high=256, kind=int)
    seed: int = _f(0, "random seed for weights, inputs and targets", low=0,
                   high=2 ** 31 - 1, kind=int)
    dtype: str = _f("float32", "floating-point precision", choices=DTYPES, kind=str)


# ---------------------------------------------------------------- weights and data
# Seeds: core.weights.layer_seed(spec.seed, index), imported where TensorFlow is needed
# anyway (core.weights loads it), so that the spec and the CLI's checks stay light.
INPUT_KERNEL_SEED, RECURRENT_KERNEL_SEED, DATA_SEED = 1, 2, 3


def recurrent_initializer_args(spec: ThroughTimeSpec) -> tuple[str, dict]:
    """(keras.initializers class name, its arguments) of the recurrent kernel."""
    from .weights import layer_seed
    seed = layer_seed(spec.seed, RECURRENT_KERNEL_SEED)
    if spec.recurrent_init == "orthogonal":
        return "Orthogonal", {"gain": spec.gain, "seed": seed}
    if spec.recurrent_init == "identity":
        return "Identity", {"gain": spec.gain}
    if spec.recurrent_init == "random_normal":
        return "RandomNormal", {"mean": 0.0, "stddev": spec.stddev, "seed": seed}
    return "GlorotUniform", {"seed": seed}


def recurrent_initializer(spec: ThroughTimeSpec):
    from .tf_setup import keras
    name, arguments = recurrent_initializer_args(spec)
    return getattr(keras.initializers, name)(**arguments)


def make_weights(spec: ThroughTimeSpec) -> dict:
    """The cell's weights as Keras would initialize them (seeded), as numpy arrays."""
    from .tf_setup import keras
    from .weights import layer_seed
    width = GATES[spec.cell] * spec.units
    seed = layer_seed(spec.seed, INPUT_KERNEL_SEED)
    kernel = np.asarray(keras.initializers.GlorotUniform(seed=seed)(
        (spec.features, width), dtype=spec.dtype))
    recurrent = np.asarray(recurrent_initializer(spec)((spec.units, width),
                                                       dtype=spec.dtype))
    if spec.cell == "gru":
        bias = np.zeros((2, width), dtype=spec.dtype)  # reset_after=True: input, recurrent
    else:
        bias = np.zeros((width,), dtype=spec.dtype)
        if spec.cell == "lstm":
            bias[spec.units:2 * spec.units] = spec.forget_bias  # gates i, f, c, o
    return {"kernel": kernel, "recurrent_kernel": recurrent, "bias": bias}


def make_data(spec: ThroughTimeSpec):
    """Inputs (steps, batch, features) ~ N(0, 1) and targets (batch, units) ~ N(0, 1)."""
    from .weights import layer_seed
    rng = np.random.default_rng(layer_seed(spec.seed, DATA_SEED))
    inputs = rng.standard_normal((spec.steps, spec.batch_size, spec.features))
    targets = rng.standard_normal((spec.batch_size, spec.units))
    return inputs.astype(spec.dtype), targets.astype(spec.dtype)


def recurrent_matrix(spec: ThroughTimeSpec, recurrent: np.ndarray) -> np.ndarray:
    """The square matrix that carries the state: W_hh (SimpleRNN) or the candidate block."""
    if spec.cell == "simple":
        return recurrent
    return recurrent[:, 2 * spec.units:3 * spec.units]  # LSTM c block, GRU h block


RECURRENT_MATRIX_LABEL = {
    "simple": "the recurrent kernel W_hh",
    "lstm": "the candidate (cell input) block of the recurrent kernel",
    "gru": "the candidate block of the recurrent kernel",
}


def kernel_radii(spec: ThroughTimeSpec, recurrent: np.ndarray) -> tuple[float, float]:
    """(spectral radius, largest singular value), in float64."""
    matrix = recurrent_matrix(spec, recurrent).astype(np.float64)
    radius = float(np.max(np.abs(np.linalg.eigvals(matrix))))
    singular = float(np.linalg.norm(matrix, ord=2))
    return radius, singular


# ---------------------------------------------------------------- the traced fast path
def _activation(index):
    """phi(z) for ACTIVATIONS[index], `index` a scalar int32 tensor: the choice is made
    in the graph, so one trace serves every activation. tf.where selects the output (and
    routes the gradient) of the chosen one only; the others' inf or nan do not leak."""
    from .tf_setup import tf

    def phi(z):
        return tf.where(index == ACTIVATIONS.index("tanh"), tf.tanh(z),
                        tf.where(index == ACTIVATIONS.index("relu"), tf.nn.relu(z), z))
    return phi


def _norm(tensor, axes=None):
    """core.per_layer.safe_norm: an L2 norm that does not overflow while entries are finite."""
    from .per_layer import safe_norm
    return safe_norm(tensor, axes)


def cell_step(cell: str, activation):
    """step(x_t, h, c, kernel, recurrent, bias, c_probe) -> (h, c): Keras' cell equations.

    `activation`: the index of the cell's activation in ACTIVATIONS (an int or a scalar
    int32 tensor).

    LSTM: `c_probe` is added to the new carry c_t before h_t = o * phi(c_t) is computed,
    so the gradient with respect to it is the total d(loss)/d(c_t). Other cells ignore it.
    """
    from .tf_setup import tf
    phi = _activation(activation)
    sigmoid = tf.sigmoid

    def simple(x, h, c, kernel, recurrent, bias, c_probe):
        return phi(tf.matmul(x, kernel) + bias + tf.matmul(h, recurrent)), c

    def lstm(x, h, c, kernel, recurrent, bias, c_probe):
        z = tf.matmul(x, kernel) + tf.matmul(h, recurrent) + bias
        z_i, z_f, z_c, z_o = tf.split(z, 4, axis=1)
        c = sigmoid(z_f) * c + sigmoid(z_i) * phi(z_c) + c_probe
        return sigmoid(z_o) * phi(c), c

    def gru(x, h, c, kernel, recurrent, bias, c_probe):
        x_z, x_r, x_h = tf.split(tf.matmul(x, kernel) + bias[0], 3, axis=1)
        r_z, r_r, r_h = tf.split(tf.matmul(h, recurrent) + bias[1], 3, axis=1)
        update, reset = sigmoid(x_z + r_z), sigmoid(x_r + r_r)
        candidate = phi(x_h + reset * r_h)
        return update * h + (1 - update) * candidate, c

    return {"simple": simple, "lstm": lstm, "gru": gru}[cell]


def _signature(cell: str, dtype: str) -> list:
    """inputs (T, batch, features), kernel, recurrent kernel, bias, targets, activation."""
    from .tf_setup import tf
    bias_shape = [None, None] if cell == "gru" else [None]
    return [tf.TensorSpec([None, None, None], dtype), tf.TensorSpec([None, None], dtype),
            tf.TensorSpec([None, None], dtype), tf.TensorSpec(bias_shape, dtype),
            tf.TensorSpec([None, None], dtype), tf.TensorSpec([], tf.int32)]


def _unroll(step_fn, inputs, weights, probes, cell_probes):
    """Run the cell over every step from zero states, adding probe t to h_t (and to c_t
    inside the LSTM step). Returns (h_T, ||h_t|| for every t)."""
    from .tf_setup import tf
    dtype, steps = inputs.dtype, tf.shape(inputs)[0]

    def readable(tensor):
        return tf.TensorArray(dtype, size=steps, clear_after_read=False,
                              infer_shape=False).unstack(tensor)

    probe_list, cell_probe_list = readable(probes), readable(cell_probes)
    state_norms = tf.TensorArray(dtype, size=steps, element_shape=[])
    h = c = tf.zeros(tf.shape(probes)[1:], dtype)
    for t in tf.range(steps):
        h, c = step_fn(inputs[t], h, c, *weights, cell_probe_list.read(t))
        h = h + probe_list.read(t)
        state_norms = state_norms.write(t, _norm(h))
    return h, state_norms.stack()


def _build(cell: str, dtype: str):
    """The traced pass for one (cell, dtype): norms of d(loss)/d(h_t), d(loss)/d(c_t),
    ||h_t|| per step, and the loss."""
    from .tf_setup import tf

    @tf.function(input_signature=_signature(cell, dtype))
    def through_time(inputs, kernel, recurrent, bias, targets, activation):
        step_fn = cell_step(cell, activation)
        shape = [tf.shape(inputs)[0], tf.shape(inputs)[1], tf.shape(recurrent)[0]]
        probes, cell_probes = tf.zeros(shape, dtype), tf.zeros(shape, dtype)
        with tf.GradientTape() as tape:
            tape.watch([probes, cell_probes])
            h, state_norms = _unroll(step_fn, inputs, (kernel, recurrent, bias), probes,
                                     cell_probes)
            loss = tf.reduce_mean(tf.square(h - targets))
        signal, cell_signal = tape.gradient(
            loss, [probes, cell_probes], unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return (_norm(signal, axes=[1, 2]), _norm(cell_signal, axes=[1, 2]), state_norms,
                loss)

    return through_time


_traced: dict = {}
_traced_lock = threading.Lock()


def _traced_for(spec: ThroughTimeSpec):
    key = (spec.cell, spec.dtype)
    with _traced_lock:
        if key not in _traced:
            _traced[key] = _build(*key)
        return _traced[key]


def step_table(spec, signal, cell_signal, state_norms, loss, recurrent) -> pd.DataFrame:
    """The per-step table (see through_time) from the pass's outputs, with its attrs."""
    table = pd.DataFrame({
        "step": np.arange(1, spec.steps + 1),
        "signal_grad_norm": np.asarray(signal, dtype=np.float64),
        "cell_grad_norm": (np.asarray(cell_signal, dtype=np.float64)
                           if spec.cell == "lstm" else np.nan),
        "state_norm": np.asarray(state_norms, dtype=np.float64),
    })
    radius, singular = kernel_radii(spec, recurrent)
    table.attrs.update(loss=float(loss), spectral_radius=radius,
                       largest_singular_value=singular,
                       recurrent_matrix=RECURRENT_MATRIX_LABEL[spec.cell])
    return table


def compute_through_time(spec: ThroughTimeSpec) -> pd.DataFrame:
    """The per-step table for `spec`, computed now with the traced fast path."""
    weights = make_weights(spec)
    inputs, targets = make_data(spec)
    signal, cell_signal, state_norms, loss = _traced_for(spec)(
        inputs, weights["kernel"], weights["recurrent_kernel"], weights["bias"], targets,
        np.int32(ACTIVATIONS.index(spec.activation)))
    return step_table(spec, signal.numpy(), cell_signal.numpy(), state_norms.numpy(),
                  loss.numpy(), weights["recurrent_kernel"])


@memoize(entries=64)
def _through_time(spec: ThroughTimeSpec) -> pd.DataFrame:
    return compute_through_time(spec)


def through_time(spec: ThroughTimeSpec | None = None, **settings) -> pd.DataFrame:
    """One row per time step t = 1..T: step, signal_grad_norm = ||d(loss)/d(h_t)||,
    cell_grad_norm = ||d(loss)/d(c_t)|| (LSTM only, else nan), state_norm = ||h_t||.

    attrs: loss, spectral_radius, largest_singular_value, recurrent_matrix. Called with
    keywords instead of a spec, they build one: through_time(cell="lstm", steps=100).
    Cached by core.cache (keyed by the frozen spec); every call returns a fresh copy.
    """
    spec = spec if spec is not None else ThroughTimeSpec(**settings)
    if not isinstance(spec, ThroughTimeSpec):
        raise TypeError("through_time() takes a ThroughTimeSpec")
    return _through_time(spec)


def theory_line(table: pd.DataFrame, radius: float) -> np.ndarray:
    """rho^(T-t) * ||d(loss)/d(h_T)||: exact for a linear cell with gain * orthogonal.

    Anchored on the last step whose measured gradient is finite and nonzero (step T
    unless it overflowed): rho^(s-t) * ||d(loss)/d(h_s)||; all nan if there is none.
    """
    steps = table["step"].to_numpy(dtype=np.float64)
    signal = table["signal_grad_norm"].to_numpy(dtype=np.float64)
    usable = np.flatnonzero(np.isfinite(signal) & (signal != 0))
    if not usable.size:
        return np.full(steps.shape, np.nan)
    anchor = usable[-1]
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        return signal[anchor] * np.power(radius, steps[anchor] - steps)
