"""The activations the app offers, as Keras defines them."""
from __future__ import annotations

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
