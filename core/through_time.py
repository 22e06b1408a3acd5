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
same Python code, and TensorFlow warns about "retracing" after 5 traces in 10 calls.) It computes the Keras cells'
equations (fused "implementation 2" for LSTM, reset_after=True for GRU); the tests check
it against `keras_reference_profile`, which calls the real keras.layers cells step by
step in eager mode and differentiates with respect to the states they return (the slow,
obvious way; also the benchmark's baseline). For the LSTM, the carry c_t is probed too
(before h_t = o_t * phi(c_t) is computed): cell_grad_norm is the total d(loss)/d(c_t).
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .spec import Spec, spec_field

CELLS = ("simple", "lstm", "gru")
CELL_NAMES = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
GATES = {"simple": 1, "lstm": 4, "gru": 3}
ACTIVATIONS = ("tanh", "linear", "relu")
RECURRENT_INITS = ("orthogonal", "random_normal", "glorot_uniform", "identity")
DTYPES = ("float32", "float64")

COLUMNS = ["step", "signal_grad_norm", "cell_grad_norm", "state_norm"]
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
def _seed(seed: int, index: int) -> int:
    return (seed * 1_000_003 + 7919 * index + 1) % (2 ** 31 - 1)


def recurrent_initializer(spec: ThroughTimeSpec):
    from .tf_setup import keras
    init = keras.initializers
    seed = _seed(spec.seed, 2)
    if spec.recurrent_init == "orthogonal":
        return init.Orthogonal(gain=spec.gain, seed=seed)
    if spec.recurrent_init == "identity":
        return init.Identity(gain=spec.gain)
    if spec.recurrent_init == "random_normal":
        return init.RandomNormal(mean=0.0, stddev=spec.stddev, seed=seed)
    return init.GlorotUniform(seed=seed)


def make_weights(spec: ThroughTimeSpec) -> dict:
    """The cell's weights as Keras would initialize them (seeded), as numpy arrays."""
    from .tf_setup import keras
    width = GATES[spec.cell] * spec.units
    kernel = np.asarray(keras.initializers.GlorotUniform(seed=_seed(spec.seed, 1))(
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
    rng = np.random.default_rng(_seed(spec.seed, 3))
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


def _build(cell: str, dtype: str):
    from .tf_setup import tf
    bias_shape = [None, None] if cell == "gru" else [None]
    signature = [tf.TensorSpec([None, None, None], dtype), tf.TensorSpec([None, None], dtype),
                 tf.TensorSpec([None, None], dtype), tf.TensorSpec(bias_shape, dtype),
                 tf.TensorSpec([None, None], dtype), tf.TensorSpec([], tf.int32)]

    @tf.function(input_signature=signature)
    def through_time(inputs, kernel, recurrent, bias, targets, activation):
        step_fn = cell_step(cell, activation)
        steps, batch, units = tf.shape(inputs)[0], tf.shape(inputs)[1], tf.shape(recurrent)[0]
        probes = tf.zeros([steps, batch, units], dtype)
        cell_probes = tf.zeros([steps, batch, units], dtype)
        with tf.GradientTape() as tape:
            tape.watch([probes, cell_probes])
            probe_list = tf.TensorArray(dtype, size=steps, clear_after_read=False,
                                        infer_shape=False).unstack(probes)
            cell_probe_list = tf.TensorArray(dtype, size=steps, clear_after_read=False,
                                             infer_shape=False).unstack(cell_probes)
            state_norms = tf.TensorArray(dtype, size=steps, element_shape=[])
            h = tf.zeros([batch, units], dtype)
            c = tf.zeros([batch, units], dtype)
            for t in tf.range(steps):
                h, c = step_fn(inputs[t], h, c, kernel, recurrent, bias,
                               cell_probe_list.read(t))
                h = h + probe_list.read(t)
                state_norms = state_norms.write(t, _norm(h))
            loss = tf.reduce_mean(tf.square(h - targets))
        signal, cell_signal = tape.gradient(
            loss, [probes, cell_probes], unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return (_norm(signal, axes=[1, 2]), _norm(cell_signal, axes=[1, 2]),
                state_norms.stack(), loss)

    return through_time


_traced: dict = {}
_traced_lock = threading.Lock()


def _traced_for(spec: ThroughTimeSpec):
    key = (spec.cell, spec.dtype)
    with _traced_lock:
        if key not in _traced:
            _traced[key] = _build(*key)
        return _traced[key]


def _table(spec, signal, cell_signal, state_norms, loss, recurrent) -> pd.DataFrame:
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
    return _table(spec, signal.numpy(), cell_signal.numpy(), state_norms.numpy(),
                  loss.numpy(), weights["recurrent_kernel"])


def keras_cell(spec: ThroughTimeSpec):
    """The real keras.layers cell for `spec`, built and holding `make_weights(spec)`."""
    from .tf_setup import keras
    layers = keras.layers
    if spec.cell == "simple":
        cell = layers.SimpleRNNCell(spec.units, activation=spec.activation, dtype=spec.dtype)
    elif spec.cell == "lstm":
        cell = layers.LSTMCell(spec.units, activation=spec.activation, dtype=spec.dtype)
    else:
        cell = layers.GRUCell(spec.units, activation=spec.activation, dtype=spec.dtype)
    cell.build((None, spec.features))
    weights = make_weights(spec)
    cell.set_weights([weights["kernel"], weights["recurrent_kernel"], weights["bias"]])
    return cell


def keras_reference_profile(spec: ThroughTimeSpec) -> pd.DataFrame:
    """The same table, the obvious way: a real Keras cell called step by step, eagerly."""
    from .tf_setup import tf
    cell = keras_cell(spec)
    inputs, targets = make_data(spec)
    zeros = tf.constant(np.zeros((spec.batch_size, spec.units), dtype=spec.dtype))
    states = [zeros, zeros] if spec.cell == "lstm" else [zeros]
    hidden, carries = [], []
    with tf.GradientTape(persistent=True) as tape:
        for t in range(spec.steps):
            _, states = cell(tf.constant(inputs[t]), states)
            hidden.append(states[0])  # the very tensors the cell and the loss consume,
            carries.append(states[-1])  # so their gradients are d(loss)/d(h_t), d(c_t)
        loss = tf.reduce_mean(tf.square(states[0] - targets))
    zero = tf.UnconnectedGradients.ZERO
    signal = [np.linalg.norm(g.numpy().astype(np.float64))
              for g in tape.gradient(loss, hidden, unconnected_gradients=zero)]
    cell_signal = [np.linalg.norm(g.numpy().astype(np.float64))
                   for g in tape.gradient(loss, carries, unconnected_gradients=zero)]
    norms = [float(np.linalg.norm(h.numpy().astype(np.float64))) for h in hidden]
    return _table(spec, signal, cell_signal, norms, loss.numpy(),
                  make_weights(spec)["recurrent_kernel"])


KERAS_CELLS = {"simple": "SimpleRNNCell", "lstm": "LSTMCell", "gru": "GRUCell"}


def _recurrent_initializer_code(spec: ThroughTimeSpec) -> str:
    seed = _seed(spec.seed, 2)
    if spec.recurrent_init == "orthogonal":
        return f"keras.initializers.Orthogonal(gain={spec.gain!r}, seed={seed})"
    if spec.recurrent_init == "identity":
        return f"keras.initializers.Identity(gain={spec.gain!r})"
    if spec.recurrent_init == "random_normal":
        return (f"keras.initializers.RandomNormal(mean=0.0, stddev={spec.stddev!r}, "
                f"seed={seed})")
    return f"keras.initializers.GlorotUniform(seed={seed})"


def keras_code(spec: ThroughTimeSpec) -> str:
    """Runnable Keras code: this cell unrolled over the steps, printing ||d(loss)/d(h_t)||.

    Same initializers and seeds as make_weights and the same data as make_data, so it
    prints the numbers of through_time(spec) (the tests check it).
    """
    forget = ""
    if spec.cell == "lstm" and spec.forget_bias != 1.0:
        forget = (f"\n# Forget-gate bias {spec.forget_bias:g} (Keras starts it at 1); "
                  f"gates are ordered i, f, c, o.\nbias = cell.bias.numpy()\n"
                  f"bias[units:2 * units] = {spec.forget_bias!r}\ncell.bias.assign(bias)")
    states = "[zeros, zeros]" if spec.cell == "lstm" else "[zeros]"  # LSTM: h and c
    return f'''import numpy as np
import keras
import tensorflow as tf

steps, units, features = {spec.steps}, {spec.units}, {spec.features}
batch_size = {spec.batch_size}
rng = np.random.default_rng({_seed(spec.seed, 3)})
inputs = rng.standard_normal((steps, batch_size, features)).astype({spec.dtype!r})
targets = rng.standard_normal((batch_size, units)).astype({spec.dtype!r})

cell = keras.layers.{KERAS_CELLS[spec.cell]}(
    units, activation={spec.activation!r}, dtype={spec.dtype!r},
    kernel_initializer=keras.initializers.GlorotUniform(seed={_seed(spec.seed, 1)}),
    recurrent_initializer={_recurrent_initializer_code(spec)})
cell.build((None, features)){forget}

# Unroll by hand, keeping every state h_t, so the tape can differentiate with respect
# to each one. The loss depends only on the last state h_T.
zeros = tf.zeros((batch_size, units), dtype={spec.dtype!r})
states, hidden = {states}, []
with tf.GradientTape() as tape:
    for t in range(steps):
        _, states = cell(inputs[t], states)
        hidden.append(states[0])
    loss = tf.reduce_mean(tf.square(states[0] - targets))
grads = tape.gradient(loss, hidden, unconnected_gradients=tf.UnconnectedGradients.ZERO)
print("step", "||d(loss)/d(h_t)||")
for step, grad in enumerate(grads, start=1):
    print(step, np.linalg.norm(grad.numpy().astype(np.float64)))
'''


_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()
CACHE_ENTRIES = 64


def through_time(spec: ThroughTimeSpec | None = None, **settings) -> pd.DataFrame:
    """One row per time step t = 1..T: step, signal_grad_norm = ||d(loss)/d(h_t)||,
    cell_grad_norm = ||d(loss)/d(c_t)|| (LSTM only, else nan), state_norm = ||h_t||.

    attrs: loss, spectral_radius, largest_singular_value, recurrent_matrix. Called with
    keywords instead of a spec, they build one: through_time(cell="lstm", steps=100).
    Cached (LRU); every call returns a fresh copy.
    """
    spec = spec if spec is not None else ThroughTimeSpec(**settings)
    if not isinstance(spec, ThroughTimeSpec):
        raise TypeError("through_time() takes a ThroughTimeSpec")
    with _cache_lock:
        if spec in _cache:
            _cache.move_to_end(spec)
            return _copy(_cache[spec])
    table = compute_through_time(spec)
    with _cache_lock:
        _cache[spec] = table
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
    return _copy(table)


def _copy(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    out.attrs = dict(table.attrs)
    return out


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


def step_ratio(table: pd.DataFrame) -> float:
    """||d(loss)/d(h_1)|| / ||d(loss)/d(h_T)||."""
    from .summary import gradient_ratio
    return gradient_ratio(float(table["signal_grad_norm"].iloc[0]),
                          float(table["signal_grad_norm"].iloc[-1]))


def problems(table: pd.DataFrame, spec: ThroughTimeSpec) -> list[str]:
    """core.summary's sentences for the steps: where the gradient, going back from step
    T, overflows, becomes nan, underflows or is multiplied by a zero W_hh (SimpleRNN
    only: LSTM and GRU carry the gradient past their recurrent kernel too)."""
    from .summary import describe_problems, summarize
    zero = spec.cell == "simple" and not make_weights(spec)["recurrent_kernel"].any()
    return describe_problems(summarize(table, position="step", forward="state_norm",
                                       zero_weights=zero, forward_zero_weights=False),
                             "gradient")


def compare_cells(spec: ThroughTimeSpec) -> pd.DataFrame:
    """SimpleRNN, LSTM and GRU at the same settings: one row per cell and step."""
    frames = []
    for cell in CELLS:
        table = through_time(spec.replace(cell=cell))
        table.insert(0, "cell", CELL_NAMES[cell])
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


FORGET_BIASES = (0.0, 1.0, 3.0, 5.0)


def forget_bias_sweep(spec: ThroughTimeSpec, biases=FORGET_BIASES) -> pd.DataFrame:
    """LSTM at each forget-gate bias: one row per bias and step."""
    frames = []
    for bias in biases:
        table = through_time(spec.replace(cell="lstm", forget_bias=float(bias)))
        table.insert(0, "forget_bias", float(bias))
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- command line
def add_arguments(parser) -> None:
    from .cli import add_format_argument, add_spec_arguments
    add_spec_arguments(parser, base=ThroughTimeSpec())
    add_format_argument(parser)


def spec_from_args(args) -> ThroughTimeSpec:
    from .cli import spec_from_args as from_args
    return from_args(args, base=ThroughTimeSpec())


def run(args) -> pd.DataFrame:
    spec = spec_from_args(args)  # validate before the slow TensorFlow import
    table = through_time(spec)
    table["spectral_radius"] = table.attrs["spectral_radius"]
    table["largest_singular_value"] = table.attrs["largest_singular_value"]
    return table



# ---------------------------------------------------------------- clipping in action
CLIPPING_TASK = (
    "Task: remember the first number. Each sequence starts with +1 or -1, followed by "
    "noise ~ N(0, 1); the target, read from the last state through a Dense(1) layer, is "
    "that first number. Guessing 0 scores a mean squared error of 1.")


@dataclass(frozen=True)
class ClippingSpec(Spec):
    """A short SGD training of SimpleRNN(tanh) + Dense(1), with and without clipping."""
    sequence_length: int = _f(20, "time steps of every sequence", low=2, high=100, kind=int)
    units: int = _f(32, "SimpleRNN units", low=2, high=128, kind=int)
    gain: float = _f(1.5, "recurrent kernel = gain * orthogonal", low=0.1, high=3.0,
                     kind=float)
    learning_rate: float = _f(0.1, "plain SGD learning rate", low=0.0, high=10.0,
                              kind=float, open_low=True)
    clip_norm: float = _f(1.0, "clip the global gradient norm to this", low=0.0,
                          high=1000.0, kind=float, open_low=True)
    train_steps: int = _f(200, "SGD steps of each run", low=1, high=1000, kind=int)
    batch_size: int = _f(32, "sequences per step", low=1, high=256, kind=int)
    seed: int = _f(0, "random seed for weights and data", low=0, high=2 ** 31 - 1, kind=int)


def remember_first_task(spec: ClippingSpec):
    """(inputs (steps, batch, length, 1), targets (steps, batch, 1)), float32."""
    rng = np.random.default_rng(_seed(spec.seed, 11))
    inputs = rng.standard_normal((spec.train_steps, spec.batch_size, spec.sequence_length, 1))
    first = rng.choice([-1.0, 1.0], size=(spec.train_steps, spec.batch_size, 1))
    inputs[:, :, 0, :] = first
    return inputs.astype("float32"), first.astype("float32")


def _clipping_model(spec: ClippingSpec):
    from .tf_setup import keras
    layers, init = keras.layers, keras.initializers
    model = keras.Sequential([
        keras.Input((spec.sequence_length, 1)),
        layers.SimpleRNN(spec.units, activation="tanh",
                         kernel_initializer=init.GlorotUniform(seed=_seed(spec.seed, 12)),
                         recurrent_initializer=init.Orthogonal(gain=spec.gain,
                                                               seed=_seed(spec.seed, 13))),
        layers.Dense(1, kernel_initializer=init.GlorotUniform(seed=_seed(spec.seed, 14))),
    ])
    return model


def train_clipping(spec: ClippingSpec, on_step=None) -> pd.DataFrame:
    """Two runs from the same initial weights and batches: without and with clipping.

    Every step: g = d(loss)/d(weights); with clipping, if ||g|| > clip_norm then
    g <- clip_norm * g / ||g|| (global norm over all weights, Pascanu et al. 2013; Keras:
    optimizer `global_clipnorm`); then w <- w - learning_rate * g.
    Rows: run, step, loss, grad_norm_before, grad_norm_after, clipped.
    `on_step(done, total)` is called after every step (for a progress bar).
    """
    from .tf_setup import tf
    model = _clipping_model(spec)
    initial = [np.array(w) for w in model.get_weights()]
    inputs, targets = remember_first_task(spec)
    variables = model.trainable_variables

    @tf.function(input_signature=[tf.TensorSpec([None, None, 1], "float32"),
                                  tf.TensorSpec([None, 1], "float32"),
                                  tf.TensorSpec([], "float32"), tf.TensorSpec([], "float32")])
    def train_step(x, y, threshold, learning_rate):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x) - y))
        grads = tape.gradient(loss, variables)
        # tf.linalg.global_norm squares the entries and overflows to inf from about
        # 1.8e19 in float32 while every entry is still finite: take the safe norm.
        norm = _norm(tf.stack([_norm(grad) for grad in grads]))
        scale = tf.where(norm > threshold, threshold / norm, tf.ones_like(norm))
        for variable, grad in zip(variables, grads):
            variable.assign_sub(learning_rate * scale * grad)
        return loss, norm, norm * scale

    runs = [("without clipping", math.inf), (f"clipped at {spec.clip_norm:g}",
                                             spec.clip_norm)]
    rows, done, total = [], 0, 2 * spec.train_steps
    for run_name, threshold in runs:
        model.set_weights(initial)
        for index in range(spec.train_steps):
            loss, before, after = train_step(inputs[index], targets[index],
                                             np.float32(threshold),
                                             np.float32(spec.learning_rate))
            before = float(before)
            rows.append({"run": run_name, "step": index + 1, "loss": float(loss),
                         "grad_norm_before": before, "grad_norm_after": float(after),
                         "clipped": bool(before > threshold)})
            done += 1
            if on_step is not None:
                on_step(done, total)
    table = pd.DataFrame(rows)
    table.attrs["clip_norm"] = spec.clip_norm
    return table


def clipping_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per run: fraction of steps clipped, final loss (mean of the last 10% of steps),
    largest finite gradient norm, and the first step whose loss or gradient was inf/nan."""
    out = []
    for run_name, group in table.groupby("run", sort=False):
        tail = group["loss"].iloc[-max(1, len(group) // 10):]
        norms = group["grad_norm_before"].to_numpy(dtype=np.float64)
        broken = ~(np.isfinite(group["loss"].to_numpy(dtype=np.float64)) & np.isfinite(norms))
        finite_norms = norms[np.isfinite(norms)]
        out.append({"run": run_name, "clipped_fraction": float(group["clipped"].mean()),
                    "final_loss": float(tail.mean()),
                    "largest_finite_grad_norm": float(finite_norms.max())
                    if finite_norms.size else math.nan,
                    "nonfinite_steps": int(broken.sum()),
                    "first_nonfinite_step": int(group["step"].to_numpy()[broken][0])
                    if broken.any() else None})
    return pd.DataFrame(out)
