"""The same network as a plain Keras functional model: the reference and the naive way.

core.per_layer computes with a traced loop for speed; this module builds the network
layer by layer with keras.layers and measures it with an eager tf.GradientTape. Tests
check both give the same numbers, and benchmarks/ uses it as the naive baseline.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .per_layer import BN_EPSILON
from .spec import READOUT_UNITS, VARIANCE_SCALING, ModelSpec
from .tf_setup import keras, tf
from .weights import kernel_initializer, layer_seed, make_data, \
    make_weights


def activation_layer(spec: ModelSpec, name: str):
    """The spec's activation as a Keras layer (LeakyReLU with its negative slope)."""
    if spec.activation == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=spec.negative_slope, name=name,
                                      dtype=spec.dtype)
    return keras.layers.Activation(spec.activation, name=name, dtype=spec.dtype)


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
    `learn_scale`: the skips' scales are trainable weights (core.network sets it for
    residual_scale 0, SkipInit/ReZero).
    """

    def __init__(self, spec: ModelSpec, regularizer=None, draw: bool = True,
                 learn_scale: bool = False):
        self.spec = spec
        self.dense, self.norms, self.acts, self.skips = [], [], [], []
        for layer in range(1, spec.depth + 1):
            self.dense.append(keras.layers.Dense(
                spec.width, use_bias=not spec.no_bias, kernel_regularizer=regularizer,
                dtype=spec.dtype, name=f"dense_{layer}",
                kernel_initializer=kernel_initializer(spec, layer_seed(spec.seed, 100 + layer))
                if draw else "zeros"))
            self.norms.append(keras.layers.BatchNormalization(
                epsilon=BN_EPSILON, dtype=spec.dtype, name=f"batch_norm_{layer}")
                if spec.batch_norm else None)
            self.acts.append(activation_layer(spec, f"activation_{layer}"))
            self.skips.append(_skip(spec, f"skip_{layer}", learn_scale)
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


def _skip(spec: ModelSpec, name: str, learnable: bool):
    """A plain Add at residual_scale 1 (no multiply: today's numbers bit for bit), else
    a ScaledSkip."""
    if spec.residual_scale == 1 and not learnable:
        return keras.layers.Add(name=name, dtype=spec.dtype)
    return ScaledSkip(spec.residual_scale, learnable, name=name, dtype=spec.dtype)


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
        "activation_std": [float(np.std(np.asarray(h))) for h in hidden],
        "signal_grad_norm": [norm(g) for g in grads[:spec.depth]],
        "weight_grad_norm": [norm(g) for g in grads[spec.depth:]],
    })


def _initializer_code(spec: ModelSpec) -> str:
    if spec.init == "random_normal":
        return f"keras.initializers.RandomNormal(stddev={spec.stddev:g}, seed=seed)"
    if spec.init == "random_uniform":
        return (f"keras.initializers.RandomUniform(minval={-spec.limit:g}, "
                f"maxval={spec.limit:g}, seed=seed)")
    if spec.init == "identity":
        return f"keras.initializers.Identity(gain={spec.gain:g})"
    if spec.init == "orthogonal":
        return f"keras.initializers.Orthogonal(gain={spec.gain:g}, seed=seed)"
    if spec.init in ("he_avg_normal", "variance_scaling"):
        scale, mode, distribution = VARIANCE_SCALING.get(
            spec.init, (spec.scale, "fan_in", "untruncated_normal"))
        return (f"keras.initializers.VarianceScaling(scale={scale:g}, mode={mode!r}, "
                f"distribution={distribution!r}, seed=seed)")
    class_name = "".join(part.capitalize() for part in spec.init.split("_"))
    return f"keras.initializers.{class_name}(seed=seed)"


def keras_code(spec: ModelSpec) -> str:
    """Runnable Keras code that builds this network and measures its gradients."""
    if spec.activation == "leaky_relu":
        act = f"layers.LeakyReLU(negative_slope={spec.negative_slope:g})"
    else:
        act = f"layers.Activation({spec.activation!r})"
    bias = (f"keras.initializers.RandomNormal(stddev={spec.bias_stddev:g}, seed=seed)"
            if spec.bias_stddev > 0 and not spec.no_bias else "'zeros'")
    bn = ("\n        z = layers.BatchNormalization()(z, training=True)"
          if spec.batch_norm else "")
    branch = "a" if spec.residual_scale == 1 else \
        f"layers.Rescaling({spec.residual_scale!r})(a)"  # residual_scale x a
    skip = (f"\n    h = layers.Add()([h, {branch}]) if layer > 1 else a" if spec.residual
            else "\n    h = a")
    return f'''import numpy as np
import keras
import tensorflow as tf
from keras import layers

keras.config.set_floatx({spec.dtype!r})
depth, width, n_in, batch_size = {spec.depth}, {spec.width}, {spec.n_in}, {spec.batch_size}
rng = np.random.default_rng({spec.seed})
x = rng.normal(0.0, {spec.input_std:g}, size=(batch_size, n_in)).astype({spec.dtype!r})
targets = rng.normal(0.0, 1.0, size=(batch_size, {READOUT_UNITS})).astype({spec.dtype!r})

inputs = keras.Input(shape=(n_in,))
h, hidden = inputs, []
for layer in range(1, depth + 1):
    seed = {spec.seed} * 1000 + layer
    z = layers.Dense(width, use_bias={not spec.no_bias},
                     kernel_initializer={_initializer_code(spec)},
                     bias_initializer={bias})(h){bn.replace(chr(10) + "        ", chr(10) + "    ")}
    a = {act}(z){skip}
    hidden.append(h)
outputs = layers.Dense({READOUT_UNITS})(h)
model = keras.Model(inputs, [outputs] + hidden)

with tf.GradientTape() as tape:
    prediction, *hidden_out = model(x)
    loss = tf.reduce_mean(tf.square(prediction - targets))
signals = tape.gradient(loss, hidden_out)  # dLoss/dh_l for every hidden layer
for layer, g in enumerate(signals, start=1):
    print(layer, float(tf.norm(g)))
'''
