"""The recurrent pass the plain Keras way, and the runnable Keras code the page shows.

`keras_reference_profile` calls a real keras.layers cell step by step in eager mode and
differentiates with respect to the states it returns: slow and obvious, it is what the
tests hold core.through_time's traced fast path to, and the benchmark's baseline.
`keras_code` writes the same computation as a script a reader can run.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .through_time import (DATA_SEED, INPUT_KERNEL_SEED, ThroughTimeSpec, make_data,
                           make_weights, recurrent_initializer_args, step_table)

KERAS_CELLS = {"simple": "SimpleRNNCell", "lstm": "LSTMCell", "gru": "GRUCell"}


def keras_cell(spec: ThroughTimeSpec):
    """The real keras.layers cell for `spec`, built and holding `make_weights(spec)`."""
    from .tf_setup import keras
    cell = getattr(keras.layers, KERAS_CELLS[spec.cell])(
        spec.units, activation=spec.activation, dtype=spec.dtype)
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
    return step_table(spec, signal, cell_signal, norms, loss.numpy(),
                      make_weights(spec)["recurrent_kernel"])


def _recurrent_initializer_code(spec: ThroughTimeSpec) -> str:
    name, arguments = recurrent_initializer_args(spec)
    listed = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
    return f"keras.initializers.{name}({listed})"


def _forget_bias_code(spec: ThroughTimeSpec) -> str:
    if spec.cell != "lstm" or spec.forget_bias == 1.0:
        return ""
    return (f"\n# Forget-gate bias {spec.forget_bias:g} (Keras starts it at 1); "
            f"gates are ordered i, f, c, o.\nbias = cell.bias.numpy()\n"
            f"bias[units:2 * units] = {spec.forget_bias!r}\ncell.bias.assign(bias)")


def keras_code(spec: ThroughTimeSpec) -> str:
    """Runnable Keras code: this cell unrolled over the steps, printing ||d(loss)/d(h_t)||.

    Same initializers and seeds as make_weights and the same data as make_data, so it
    prints the numbers of through_time(spec) (the tests check it).
    """
    from .weights import layer_seed
    data_seed, kernel_seed = (layer_seed(spec.seed, DATA_SEED),
                              layer_seed(spec.seed, INPUT_KERNEL_SEED))
    states = "[zeros, zeros]" if spec.cell == "lstm" else "[zeros]"  # LSTM: h and c
    return f'''import numpy as np
import keras
import tensorflow as tf

steps, units, features = {spec.steps}, {spec.units}, {spec.features}
batch_size = {spec.batch_size}
rng = np.random.default_rng({data_seed})
inputs = rng.standard_normal((steps, batch_size, features)).astype({spec.dtype!r})
targets = rng.standard_normal((batch_size, units)).astype({spec.dtype!r})

cell = keras.layers.{KERAS_CELLS[spec.cell]}(
    units, activation={spec.activation!r}, dtype={spec.dtype!r},
    kernel_initializer=keras.initializers.GlorotUniform(seed={kernel_seed}),
    recurrent_initializer={_recurrent_initializer_code(spec)})
cell.build((None, features)){_forget_bias_code(spec)}

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
