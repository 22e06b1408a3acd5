"""The Keras network that core.training trains, and its optimizer.

Real keras.layers (Dense -> BatchNormalization -> activation, + identity skip) with the
same initial weights core.weights draws for the profile, and a softmax readout for the
data set's classes. With residual_scale 0 every skip's scale is a trainable scalar that
starts at 0 (SkipInit/ReZero: each skipped layer is the identity at initialization);
any other residual_scale is fixed. An L2 penalty is a `keras.regularizers.L2` on every kernel (the
readout's too), which Keras collects in `model.losses`.
"""
from __future__ import annotations

import numpy as np

from .keras_model import Stack
from .spec import ModelSpec
from .tf_setup import keras
from .training import CLIPPINGS
from .weights import layer_seed, make_weights

MOMENTUM = 0.9  # the "momentum" optimizer: keras.optimizers.SGD(momentum=0.9)


class Network:
    """The trained network: keras_model.Stack's layers and a readout, plus a functional
    keras.Model over them."""

    def __init__(self, spec: ModelSpec, classes: int, l2: float = 0.0,
                 policy: str | None = None):
        """`policy`: a Keras dtype policy for the hidden layers (core.training's
        "mixed_float16"), passed to each layer; the readout keeps spec.dtype."""
        first, kernels, biases, _ = make_weights(spec)
        regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
        self.spec = spec
        self.stack = Stack(spec, regularizer, draw=False, dtype=policy,
                           learn_scale=spec.residual and spec.residual_scale == 0)
        self.readout = keras.layers.Dense(classes, kernel_regularizer=regularizer,
                                          dtype=spec.dtype, name="readout")
        inputs = keras.Input((spec.n_in,), dtype=spec.dtype, name="inputs")
        logits, _, _ = self.forward(inputs, training=None)  # builds every layer
        self.model = keras.Model(inputs, logits, name="gradient_lab_classifier")
        self.stack.set_weights(first, kernels, biases)
        readout_kernel = keras.initializers.GlorotUniform(seed=layer_seed(spec.seed, 0))(
            (spec.width, classes), dtype=spec.dtype)
        self.readout.set_weights([np.asarray(readout_kernel),
                                  np.zeros(classes, spec.dtype)])
        self.kernels = [dense.kernel for dense in self.stack.dense]

    def forward(self, x, training: bool | None):
        """logits, pre-activations z_l (after batch norm) and hidden outputs h_l. The
        functional model is this pass on symbolic inputs (training None: decided when
        the model is called)."""
        zs, hs = self.stack(x, training)
        return self.readout(hs[-1]), zs, hs


def make_optimizer(training_spec):
    """The Keras optimizer for a core.training.TrainingSpec, with its own clipping
    argument (if any), wrapped in a LossScaleOptimizer with loss_scaling."""
    clip = {name: getattr(training_spec, name) for name in CLIPPINGS
            if getattr(training_spec, name) > 0}
    if training_spec.optimizer == "adam":
        optimizer = keras.optimizers.Adam(learning_rate=training_spec.learning_rate, **clip)
    else:
        momentum = MOMENTUM if training_spec.optimizer == "momentum" else 0.0
        optimizer = keras.optimizers.SGD(learning_rate=training_spec.learning_rate,
                                         momentum=momentum, **clip)
    if training_spec.loss_scaling:  # Keras' defaults: 2^15 at first, doubled every 2000
        return keras.optimizers.LossScaleOptimizer(optimizer)  # good steps, halved on inf
    return optimizer
