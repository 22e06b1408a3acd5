"""The zoo's builders (see core.zoo): plain Keras functions of plain arguments.

Each returns a keras.Model whose last layer is `readout`. "Show the Keras code" prints
these functions as they are, so they use only `keras` and `keras.layers`.
"""
from __future__ import annotations

from . import tf_setup  # noqa: F401 - TensorFlow's settings before Keras loads
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402


@keras.saving.register_keras_serializable(package="gradient_lab")
class Hidden(layers.Layer):
    """One hidden layer of the mlp: Dense -> (BatchNormalization) -> activation
    (+ skip: inputs + residual_scale x activation). Its output is the h_l that
    core.profile measures."""

    def __init__(self, units, activation="tanh", negative_slope=0.01, batch_norm=False,
                 skip=False, use_bias=True, kernel_initializer="glorot_normal",
                 bias_initializer="zeros", residual_scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation, self.negative_slope = units, activation, negative_slope
        self.batch_norm, self.skip, self.use_bias = batch_norm, skip, use_bias
        self.residual_scale = float(residual_scale)
        self.dense = layers.Dense(units, use_bias=use_bias, name="dense",
                                  kernel_initializer=kernel_initializer,
                                  bias_initializer=bias_initializer)
        self.norm = layers.BatchNormalization(epsilon=1e-3, name="batch_norm") \
            if batch_norm else None
        self.act = layers.LeakyReLU(negative_slope=negative_slope) \
            if activation == "leaky_relu" else layers.Activation(activation)

    def build(self, input_shape):
        self.dense.build(input_shape)
        if self.norm is not None:
            self.norm.build(tuple(input_shape[:-1]) + (self.units,))

    def parts(self, inputs, training=None):
        """(pre-activation z, activation a, output h) of this layer on `inputs`."""
        z = self.dense(inputs)
        if self.norm is not None:
            z = self.norm(z, training=training)
        a = self.act(z)
        if not self.skip:
            return z, a, a
        return z, a, inputs + (a if self.residual_scale == 1 else self.residual_scale * a)

    def call(self, inputs, training=None):
        return self.parts(inputs, training)[2]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "negative_slope": self.negative_slope, "batch_norm": self.batch_norm,
                "skip": self.skip, "use_bias": self.use_bias,
                "residual_scale": self.residual_scale,
                "kernel_initializer": keras.initializers.serialize(
                    self.dense.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(
                    self.dense.bias_initializer)}


def mlp(depth, width, n_in, activation, negative_slope, batch_norm, residual, use_bias,
        kernel_initializers, bias_initializer, readout_initializer, residual_scale=1.0):
    """Inputs -> hidden_1 ... hidden_depth (Hidden layers) -> readout Dense(10).
    `kernel_initializers[l]` is hidden layer l+1's kernel initializer."""
    inputs = keras.Input((n_in,), name="inputs")
    h = inputs
    for layer in range(1, depth + 1):
        h = Hidden(width, activation, negative_slope, batch_norm,
                   skip=residual and layer > 1, use_bias=use_bias,
                   kernel_initializer=kernel_initializers[layer - 1],
                   bias_initializer=bias_initializer, residual_scale=residual_scale,
                   name=f"hidden_{layer}")(h)
    outputs = layers.Dense(10, kernel_initializer=readout_initializer,
                           name="readout")(h)
    return keras.Model(inputs, outputs, name="mlp")


def cifar_cnn(depth, width, residual, batch_norm, image_size, residual_scale=1.0):
    """He et al.'s CIFAR network, 6n+2 layers: a 3x3 stem, 3 stages of n blocks of two
    3x3 convolutions (width, 2 width, 4 width filters; stride 2 entering stages 2 and
    3), global average pooling and readout Dense(10). `residual`: each block adds its
    input (a 1x1 convolution where the shape changes) to its branch scaled by
    `residual_scale` (beta): relu(shortcut + beta x branch). At beta = 1 there is no
    multiply; at beta = 0 a block with an identity shortcut is the identity (its input,
    the output of a ReLU, is already >= 0)."""
    n = (depth - 2) // 6

    def conv(x, filters, stride, name, relu):
        x = layers.Conv2D(filters, 3, strides=stride, padding="same",
                          use_bias=not batch_norm, kernel_initializer="he_normal",
                          activation="relu" if relu and not batch_norm else None,
                          name=name)(x)
        if batch_norm:
            x = layers.BatchNormalization(name=name.replace("conv", "bn"))(x)
            x = layers.ReLU()(x) if relu else x
        return x

    inputs = keras.Input((image_size, image_size, 3), name="images")
    x = conv(inputs, width, 1, "stem_conv", relu=True)
    for stage in range(1, 4):
        filters = width * 2 ** (stage - 1)
        for block in range(1, n + 1):
            stride = 2 if stage > 1 and block == 1 else 1
            name = f"stage_{stage}_block_{block}"
            y = conv(x, filters, stride, f"{name}_conv_1", relu=True)
            y = conv(y, filters, 1, f"{name}_conv_2", relu=not residual)
            if residual:
                shortcut = x
                if stride != 1:
                    shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False,
                                             kernel_initializer="he_normal",
                                             name=f"{name}_shortcut")(x)
                if residual_scale != 1:  # beta x branch (Rescaling: y * scale)
                    y = layers.Rescaling(residual_scale, name=f"{name}_scale")(y)
                y = layers.ReLU()(layers.Add()([shortcut, y]))
            x = y
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, name="readout")(x)
    return keras.Model(inputs, outputs, name="resnet" if residual else "plain_cnn")


def transformer(blocks, d_model, heads, seq_len, pre_ln, residual_scale=1.0):
    """Encoder blocks of MultiHeadAttention and a ReLU feed-forward network (4 d_model
    wide), each sublayer wrapped in a residual add, its output scaled by
    `residual_scale` (beta). Post-LN (the original Transformer): x = LayerNorm(x + beta
    x sublayer(x)). Pre-LN (Xiong et al. 2020): x = x + beta x sublayer(LayerNorm(x)),
    with a final LayerNorm. At beta = 1 there is no multiply; at beta = 0 every
    sublayer of Pre-LN is the identity. Inputs are sequences of d_model vectors
    (standing in for token embeddings); readout Dense(d_model) at every position."""
    def scaled(branch, name):  # beta x branch (Rescaling: branch * scale)
        if residual_scale == 1:
            return branch
        return layers.Rescaling(residual_scale, name=name)(branch)

    inputs = keras.Input((seq_len, d_model), name="embeddings")
    x = inputs
    for block in range(1, blocks + 1):
        name = f"block_{block}"
        attention = layers.MultiHeadAttention(heads, d_model // heads,
                                              name=f"{name}_attention")
        norm_1 = layers.LayerNormalization(name=f"{name}_norm_1")
        norm_2 = layers.LayerNormalization(name=f"{name}_norm_2")
        ffn_1 = layers.Dense(4 * d_model, activation="relu", name=f"{name}_ffn_1")
        ffn_2 = layers.Dense(d_model, name=f"{name}_ffn_2")
        if pre_ln:
            h = norm_1(x)
            x = layers.Add()([x, scaled(attention(h, h), f"{name}_scale_1")])
            x = layers.Add()([x, scaled(ffn_2(ffn_1(norm_2(x))), f"{name}_scale_2")])
        else:
            x = norm_1(layers.Add()([x, scaled(attention(x, x), f"{name}_scale_1")]))
            x = norm_2(layers.Add()([x, scaled(ffn_2(ffn_1(x)), f"{name}_scale_2")]))
    if pre_ln:
        x = layers.LayerNormalization(name="final_norm")(x)
    outputs = layers.Dense(d_model, name="readout")(x)
    return keras.Model(inputs, outputs,
                       name="transformer_pre_ln" if pre_ln else "transformer_post_ln")


def lstm_stack(depth, width, seq_len):
    """`depth` LSTM layers of `width` units, each returning its whole sequence, and a
    readout Dense(width) at every time step."""
    inputs = keras.Input((seq_len, width), name="sequence")
    x = inputs
    for layer in range(1, depth + 1):
        x = layers.LSTM(width, return_sequences=True, name=f"lstm_{layer}")(x)
    outputs = layers.Dense(width, name="readout")(x)
    return keras.Model(inputs, outputs, name="lstm")


def application(class_name, image_size):
    """keras.applications.<class_name> with random weights (weights=None, nothing
    downloaded), no top, global average pooling, nested in a model with readout
    Dense(10)."""
    inputs = keras.Input((image_size, image_size, 3), name="images")
    base = getattr(keras.applications, class_name)(
        weights=None, include_top=False, input_shape=(image_size, image_size, 3),
        pooling="avg")
    outputs = layers.Dense(10, name="readout")(base(inputs))
    return keras.Model(inputs, outputs, name=class_name.lower())


def build_model(spec, mlp_spec):
    """The zoo.ZooSpec's model (`mlp_spec`: the mlp's core.spec.ModelSpec)."""
    from .zoo import APPLICATIONS
    a = spec.architecture
    if a == "mlp":
        return use_profile_weights(mlp(**mlp_arguments(mlp_spec)), mlp_spec)
    if a in ("plain_cnn", "resnet"):
        return cifar_cnn(spec.layers, spec.units, a == "resnet", spec.batch_norm,
                         spec.image_size, spec.residual_scale)
    if a in ("transformer_post_ln", "transformer_pre_ln"):
        return transformer(spec.blocks, spec.d_model, spec.heads, spec.seq_len,
                           pre_ln=a == "transformer_pre_ln",
                           residual_scale=spec.residual_scale)
    if a == "lstm":
        return lstm_stack(spec.layers, spec.units, spec.seq_len)
    return application(APPLICATIONS[a], spec.image_size)


def mlp_arguments(model_spec) -> dict:
    """`mlp`'s arguments for a ModelSpec: its Keras initializers with the app's seeds
    (core.weights), zero or N(0, bias_stddev) biases, a glorot_uniform readout."""
    from .weights import kernel_initializer, layer_seed
    s = model_spec
    bias = keras.initializers.RandomNormal(stddev=s.bias_stddev,
                                           seed=layer_seed(s.seed, 3)) \
        if s.bias_stddev > 0 and not s.no_bias else "zeros"
    return dict(depth=s.depth, width=s.width, n_in=s.n_in, activation=s.activation,
                negative_slope=s.negative_slope, batch_norm=s.batch_norm,
                residual=s.residual, residual_scale=s.residual_scale,
                use_bias=not s.no_bias, bias_initializer=bias,
                kernel_initializers=[kernel_initializer(s, layer_seed(s.seed, 100 + layer))
                                     for layer in range(1, s.depth + 1)],
                readout_initializer=keras.initializers.GlorotUniform(
                    seed=layer_seed(s.seed, 0)))


def use_profile_weights(model, model_spec):
    """The mlp with the weights core.weights draws for core.profile (the same Keras
    initializers and seeds, drawn as one stack), so that core.flow on it, fed
    core.weights.make_data, gives the profile's numbers."""
    from .weights import make_weights
    first, stack, biases, readout = make_weights(model_spec)
    for layer, kernel in enumerate([first] + list(stack), start=1):
        dense = model.get_layer(f"hidden_{layer}").dense
        dense.set_weights([kernel] if model_spec.no_bias else [kernel, biases[layer - 1]])
    model.get_layer("readout").set_weights([readout, np.zeros(readout.shape[1],
                                                              readout.dtype)])
    return model
