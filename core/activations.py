"""The activations the app offers, as Keras defines them."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .tf_setup import keras, tf

# Peak of |phi'(z)| over z, for the saturation threshold (checked in tests on a grid).
PEAK_SLOPE = {"linear": 1.0, "sigmoid": 0.25, "tanh": 1.0, "relu": 1.0,
              "leaky_relu": 1.0, "elu": 1.0, "selu": 1.0507009873554805 * 1.6732632423543772,
              "gelu": 1.1289, "swish": 1.0998, "softsign": 1.0}
PIECEWISE_LINEAR = ("linear", "relu", "leaky_relu")


def activation_fn(name: str):
    """phi(z, negative_slope) built from keras.activations."""
    act = keras.activations
    if name == "leaky_relu":
        # keras.activations.leaky_relu takes the slope as a constant baked into the graph;
        # this is the same function with the slope as a tensor, so that one traced
        # graph serves every slope (tests compare the two on a grid).
        return lambda z, negative_slope: tf.where(z > 0, z, negative_slope * z)
    if name == "linear":
        return lambda z, negative_slope: z
    fn = getattr(act, name)
    return lambda z, negative_slope: fn(z)


def peak_slope(name: str) -> float:
    return PEAK_SLOPE[name]


def saturates(name: str) -> bool:
    """Whether the activation has a flat asymptote (linear and the ReLU family do not)."""
    return name not in PIECEWISE_LINEAR


def activation_curves(names, low: float = -5.0, high: float = 5.0, points: int = 201,
                      negative_slope: float = 0.01) -> pd.DataFrame:
    """phi(z) and phi'(z) on a grid: phi from keras.activations (`activation_fn`), phi'
    by tf.GradientTape, in float64. Columns: activation, z, value, slope."""
    z = tf.constant(np.linspace(low, high, points), dtype=tf.float64)
    frames = []
    for name in names:
        fn = activation_fn(name)
        with tf.GradientTape() as tape:
            tape.watch(z)
            value = fn(z, tf.constant(negative_slope, tf.float64))
        frames.append(pd.DataFrame({"activation": name, "z": z.numpy(),
                                    "value": value.numpy(),
                                    "slope": tape.gradient(value, z).numpy()}))
    return pd.concat(frames, ignore_index=True)
