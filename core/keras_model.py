"""The same network as a plain Keras functional model: the reference and the naive way.

core.per_layer computes with a traced loop for speed; this module builds the network
layer by layer with keras.layers and measures it with an eager tf.GradientTape. Tests
check both give the same numbers, and benchmarks/ uses it as the naive baseline.
"""
from __future__ import annotations

import functools
import inspect
import threading

import numpy as np
import pandas as pd

from .per_layer import BN_EPSILON
from .spec import READOUT_UNITS, ModelSpec
from .tf_setup import keras, tf
from .weights import kernel_initializer, layer_seed, make_data, \
    make_weights


def activation_layer(spec: ModelSpec, name: str, dtype: str | None = None):
    """The spec's activation as a Keras layer (LeakyReLU with its negative slope);
    `dtype`: a dtype policy name instead of spec.dtype."""
    dtype = dtype or spec.dtype
    if spec.activation == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=spec.negative_slope, name=name,
                                      dtype=dtype)
    return keras.layers.Activation(spec.activation, name=name, dtype=dtype)


@keras.saving.register_keras_serializable(package="gradient_lab")
class ScaledSkip(keras.layers.Layer):
    """h + scale x branch, the scale one scalar weight: fixed, or learned from its
    initial value (SkipInit, De & Smith 2020; ReZero, Bachlechner et al. 2020, start it
    at 0, so the layer is the identity at initialization). Inputs: [h, branch]."""

    def __init__(self, scale: float = 1.0, learnable: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.initial_scale, self.learnable = float(scale), bool(learnable)

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(), trainable=self.learnable,
                                     initializer="zeros")
        # assigned, not keras.initializers.Constant (which rounds through float32)
        self.scale.assign(np.asarray(self.initial_scale, dtype=self.scale.dtype))

    def call(self, inputs):
        h, branch = inputs
        return h + self.scale * branch

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "scale": self.initial_scale,
                "learnable": self.learnable}


class Stack:
    """The hidden layers as Keras layers, the one builder of the app's MLP stack: per
    layer Dense -> (BatchNormalization) -> activation (+ a skip from layer 2 on: an Add,
    or a ScaledSkip h + residual_scale x branch when residual_scale is not 1), named
    dense_l, batch_norm_l, activation_l, skip_l (no auto-named ops: names stay unique
    whatever another session's Keras does). core.network trains it; build_keras_model
    measures it.

    `draw`: each Dense draws its kernel with the spec's Keras initializer and seed;
    off when set_weights will overwrite them (zeros: nothing drawn for nothing).
    `dtype`: a dtype policy for every layer instead of spec.dtype ("mixed_float16").
    `learn_scale`: the skips' scales are trainable weights (core.network sets it for
    residual_scale 0, SkipInit/ReZero).
    """

    def __init__(self, spec: ModelSpec, regularizer=None, draw: bool = True,
                 dtype: str | None = None, learn_scale: bool = False):
        self.spec = spec
        dtype = dtype or spec.dtype
        self.dense, self.norms, self.acts, self.skips = [], [], [], []
        for layer in range(1, spec.depth + 1):
            self.dense.append(keras.layers.Dense(
                spec.width, use_bias=not spec.no_bias, kernel_regularizer=regularizer,
                dtype=dtype, name=f"dense_{layer}",
                kernel_initializer=kernel_initializer(spec, layer_seed(spec.seed, 100 + layer))
                if draw else "zeros"))
            self.norms.append(keras.layers.BatchNormalization(
                epsilon=BN_EPSILON, dtype=dtype, name=f"batch_norm_{layer}")
                if spec.batch_norm else None)
            self.acts.append(activation_layer(spec, f"activation_{layer}", dtype))
            self.skips.append(_skip(spec, f"skip_{layer}", learn_scale, dtype)
                              if spec.residual and layer > 1 else None)

    def __call__(self, x, training: bool | None):
        """(pre-activations z_l after batch norm, hidden outputs h_l) of input x."""
        h, zs, hs = x, [], []
        for dense, norm, act, skip in zip(self.dense, self.norms, self.acts, self.skips):
            z = dense(h)
            if norm is not None:
                z = norm(z, training=training)
            a = act(z)
            h = skip([h, a]) if skip is not None else a
            zs.append(z)
            hs.append(h)
        return zs, hs

    def scales(self) -> list[float]:
        """Each skip's current scale (layers 2..depth; 1 for a plain Add)."""
        return [float(getattr(skip, "scale", 1.0)) for skip in self.skips
                if skip is not None]

    def set_weights(self, first, stack, biases) -> None:
        """The kernels (and biases) core.weights.make_weights drew for the profile."""
        for layer, (dense, kernel) in enumerate(zip(self.dense, [first] + list(stack))):
            dense.set_weights([kernel] if self.spec.no_bias else [kernel, biases[layer]])


def _skip(spec: ModelSpec, name: str, learnable: bool, dtype):
    """A plain Add at residual_scale 1 (no multiply: today's numbers bit for bit), else
    a ScaledSkip."""
    if spec.residual_scale == 1 and not learnable:
        return keras.layers.Add(name=name, dtype=dtype)
    return ScaledSkip(spec.residual_scale, learnable, name=name, dtype=dtype)


def build_keras_model(spec: ModelSpec, weights=None) -> keras.Model:
    """Inputs -> Stack -> Dense(10), batch norm in training mode (batch statistics).

    The model's outputs are the readout followed by every hidden layer's output h_l.
    With `weights` (as core.weights.make_weights returns) the kernels are set to them;
    otherwise each Dense layer draws its own with the spec's Keras initializer.
    """
    inputs = keras.Input((spec.n_in,), dtype=spec.dtype, name="inputs")
    stack = Stack(spec, draw=weights is None)
    _, hidden = stack(inputs, training=True)
    readout = keras.layers.Dense(READOUT_UNITS, dtype=spec.dtype, name="readout")
    model = keras.Model(inputs, [readout(hidden[-1])] + hidden, name="gradient_lab_mlp")
    if weights is not None:
        first, kernels, biases, readout_kernel = weights
        stack.set_weights(first, kernels, biases)
        readout.set_weights([readout_kernel, np.zeros(READOUT_UNITS, spec.dtype)])
    return model


def naive_profile(spec: ModelSpec, same_weights: bool = True) -> pd.DataFrame:
    """signal_grad_norm and weight_grad_norm per layer: functional model + eager tape."""
    weights = make_weights(spec) if same_weights else None
    model = build_keras_model(spec, weights)
    x, targets = make_data(spec)
    x = tf.constant(x)
    kernels = [model.get_layer(f"dense_{layer}").kernel for layer in range(1, spec.depth + 1)]
    with tf.GradientTape() as tape:
        prediction, *hidden = model(x)
        loss = tf.reduce_mean(tf.square(prediction - targets))
    grads = tape.gradient(loss, hidden + kernels)
    norm = lambda g: float(np.linalg.norm(np.asarray(g, dtype=np.float64)))  # noqa: E731
    return pd.DataFrame({
        "layer": np.arange(1, spec.depth + 1),
        "activation_std": [float(np.std(np.asarray(h, dtype=np.float64))) for h in hidden],
        "signal_grad_norm": [norm(g) for g in grads[:spec.depth]],
        "weight_grad_norm": [norm(g) for g in grads[spec.depth:]],
    })


def _initializer_code(initializer) -> str:
    """A Keras initializer object as the code that makes it (from its own config, so the
    script draws exactly what core.weights draws)."""
    config = initializer.get_config()
    if type(initializer).__name__ == "Identity":  # its get_config() omits the gain
        config = {"gain": initializer.gain}
    arguments = ", ".join(f"{key}={value!r}" for key, value in config.items()
                          if value is not None)
    return f"keras.initializers.{type(initializer).__name__}({arguments})"


def _weights_code(spec: ModelSpec) -> str:
    """The lines of the script that draw core.weights.make_weights(spec)'s numbers."""
    from .weights import kernel_initializer, layer_seed
    dtype, shape = repr(spec.dtype), "(depth - 1, width, width)"
    lines = [f"first = {_initializer_code(kernel_initializer(spec, layer_seed(spec.seed, 1)))}"
             f"(\n    (n_in, width), dtype={dtype})"]
    seed = layer_seed(spec.seed, 2)
    if spec.depth == 1:
        lines.append(f"stack = np.zeros({shape}, dtype={dtype})")
    elif spec.init == "identity":
        lines.append(f"stack = {spec.gain!r} * np.broadcast_to(np.eye(width, dtype={dtype}), "
                     f"{shape})")
    elif spec.init == "orthogonal":
        lines += ["# keras.initializers.Orthogonal's algorithm on every slice at once: QR of "
                  "a normal\n# matrix, signs fixed by diag(R)",
                  f"q, r = keras.ops.qr(keras.random.normal({shape}, seed={seed}, "
                  f"dtype={dtype}))",
                  "signs = keras.ops.sign(keras.ops.diagonal(r, axis1=-2, axis2=-1))",
                  f"stack = np.asarray({spec.gain!r} * q * signs[:, None, :])"]
    else:
        lines.append(f"stack = {_initializer_code(kernel_initializer(spec, seed, True))}("
                     f"\n    {shape}, dtype={dtype})")
    if spec.bias_stddev > 0 and not spec.no_bias:
        lines.append(f"biases = keras.initializers.RandomNormal(stddev={spec.bias_stddev!r}, "
                     f"seed={layer_seed(spec.seed, 3)})((depth, width), dtype={dtype})")
    else:
        lines.append(f"biases = np.zeros((depth, width), dtype={dtype})")
    lines.append(f"readout = keras.initializers.GlorotUniform(seed={layer_seed(spec.seed, 0)})("
                 f"(width, {READOUT_UNITS}), dtype={dtype})")
    return "\n".join(lines)


_source_lock = threading.Lock()


@functools.cache
def _source(obj) -> str:
    return inspect.getsource(obj)


def source_of(obj) -> str:
    """inspect.getsource(obj), read once and by one thread at a time: it runs ast.parse,
    which CPython 3.11 cannot run in two threads at once ("SystemError: AST constructor
    recursion depth mismatch"), and every session of the server renders this code."""
    with _source_lock:
        return _source(obj)


def keras_code(spec: ModelSpec) -> str:
    """A runnable script that builds this network as a Keras model (core.zoo_models'
    `mlp`, the one `python -m core flow --architecture mlp` measures), gives it the
    weights and data core.per_layer uses, measures every hidden layer with a plain
    tf.GradientTape and prints the CSV of `python -m core profile --format csv` (the
    same columns, the same numbers: tests run it). The pages' "Show the Keras code"
    and `python -m core code` print it."""
    from . import zoo_models
    from .activations import peak_slope, saturates
    from .per_layer import SATURATION_MIN_Z, SATURATION_SLOPE
    from .tf_setup import keras as _keras
    dtype = repr(spec.dtype)
    bias = "[kernel, biases[layer - 1]]" if not spec.no_bias else "[kernel]"
    saturated = (f"threshold = np.asarray({SATURATION_SLOPE!r} * {peak_slope(spec.activation)!r}, "
                 f"{dtype})  # 5% of the activation's peak slope\n"
                 f"saturated = np.mean((np.abs(slope) < threshold) & (np.abs(z_all) >= "
                 f"{SATURATION_MIN_Z!r}), axis=(1, 2))"
                 if saturates(spec.activation) else
                 f"saturated = np.zeros(depth)  # {spec.activation} has no flat tail")
    return f'''"""Gradient Lab, {spec.depth} x {spec.width} {spec.activation} network ({spec.init}{", batch norm" if spec.batch_norm else ""}{", residual" if spec.residual else ""}, {spec.dtype}).

Builds the app's network as a Keras model, gives it the app's weights and data,
measures every hidden layer with a tf.GradientTape and prints the table the app
shows (the CSV of `python -m core profile --format csv`). Keras {_keras.__version__}.
"""
import numpy as np
import pandas as pd
import keras
import tensorflow as tf
from keras import layers

keras.config.set_floatx({dtype})  # every layer computes in {spec.dtype}


{source_of(zoo_models.Hidden)}

{source_of(zoo_models.mlp)}

depth, width, n_in, batch_size = {spec.depth}, {spec.width}, {spec.n_in}, {spec.batch_size}

# The data: inputs ~ N(0, {spec.input_std!r}^2) and fixed regression targets ~ N(0, 1).
rng = np.random.default_rng([{spec.seed}, 2026])
x = rng.normal(0.0, {spec.input_std!r}, size=(batch_size, n_in)).astype({dtype})
targets = rng.normal(0.0, 1.0, size=(batch_size, {READOUT_UNITS})).astype({dtype})

# The weights, drawn with Keras initializers as the app draws them: layer 1's kernel,
# then layers 2..depth as one (depth - 1, width, width) stack whose every slice gets a
# Dense layer's own fan-in and fan-out (input_axes, output_axes); readout bias 0.
{_weights_code(spec)}

model = mlp(depth, width, n_in, activation={spec.activation!r}, negative_slope={spec.negative_slope!r},
            batch_norm={spec.batch_norm}, residual={spec.residual},
            residual_scale={spec.residual_scale!r}, use_bias={not spec.no_bias},
            kernel_initializers=["zeros"] * depth, bias_initializer="zeros",
            readout_initializer="zeros")  # zeros: the weights above replace them
for layer, kernel in enumerate([first, *stack], start=1):
    model.get_layer(f"hidden_{{layer}}").dense.set_weights({bias})
model.get_layer("readout").set_weights([readout, np.zeros({READOUT_UNITS}, {dtype})])

# One training-mode pass (batch norm uses the batch's statistics), layer by layer as
# model(x, training=True) runs it, keeping every pre-activation z_l and output h_l.
hidden = [model.get_layer(f"hidden_{{layer}}") for layer in range(1, depth + 1)]
kernels = [layer.dense.kernel.value for layer in hidden]
with tf.GradientTape() as tape:
    h, zs, hs = tf.constant(x), [], []
    for layer in hidden:
        z, _, h = layer.parts(h, training=True)
        zs.append(z)
        hs.append(h)
    prediction = model.get_layer("readout")(h)
    loss = tf.reduce_mean(tf.square(prediction - targets))  # MSE against the targets
grads = tape.gradient(loss, hs + kernels)  # dLoss/dh_l, then dLoss/dW_l


def norm(tensor):
    """L2 norm in the network's format, as the app computes it: the entries divided by
    the largest |entry| before squaring (no overflow while they are finite)."""
    tensor = tf.convert_to_tensor(tensor)
    peak = tf.reduce_max(tf.abs(tensor))
    if not 0 < float(peak) < float("inf"):
        return float(tf.norm(tensor))
    return float(peak * tf.norm(tensor / peak))


h_all, z_all = tf.stack(hs), tf.stack(zs)  # (depth, batch, width)
with tf.GradientTape() as inner:  # the activation's slope at every pre-activation
    inner.watch(z_all)
    a_all = hidden[0].act(z_all)
slope = inner.gradient(a_all, z_all).numpy()
a_all, z_all = a_all.numpy(), z_all.numpy()
# dead: a unit whose output and slope are 0 for every example of the batch
dead = np.mean(np.all((a_all == 0) & (slope == 0), axis=1), axis=1)
{saturated}

table = pd.DataFrame({{
    "layer": np.arange(1, depth + 1),
    "activation_mean": tf.reduce_mean(h_all, axis=[1, 2]).numpy(),
    "activation_std": tf.math.reduce_std(h_all, axis=[1, 2]).numpy(),
    "activation_norm": [norm(h) for h in hs],
    "preactivation_std": tf.math.reduce_std(z_all, axis=[1, 2]).numpy(),
    "saturated_fraction": saturated, "dead_fraction": dead,
    "signal_grad_norm": [norm(g) for g in grads[:depth]],
    "weight_grad_norm": [norm(g) for g in grads[depth:]],
    "weight_norm": [norm(kernel) for kernel in kernels]}})
print(table.to_csv(index=False, float_format="%.9g"), end="")
'''
