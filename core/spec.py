"""ModelSpec: the one frozen, validated description of a deep network to profile.

Every default and bound lives here. The CLI flags (``--negative-slope``), the URL
parameters (``negative_slope``) and the pages' widget keys all use these field names.
This module imports neither TensorFlow nor Streamlit, so it is cheap to import.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu",
               "gelu", "swish", "softsign")
INITS = ("identity", "random_normal", "random_uniform", "glorot_normal", "glorot_uniform",
         "he_normal", "he_uniform", "he_avg_normal", "lecun_normal", "lecun_uniform",
         "orthogonal", "variance_scaling")
DTYPES = ("float32", "float64", "float16", "bfloat16")

# initializer name -> (scale, mode, distribution) of keras.initializers.VarianceScaling,
# as Keras defines them (checked in tests against the classes' get_config()).
VARIANCE_SCALING = {
    "glorot_normal": (1.0, "fan_avg", "truncated_normal"),
    "glorot_uniform": (1.0, "fan_avg", "uniform"),
    "he_normal": (2.0, "fan_in", "truncated_normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
    "lecun_normal": (1.0, "fan_in", "truncated_normal"),
    "lecun_uniform": (1.0, "fan_in", "uniform"),
    # The course notes' He variant: std = sqrt(2) * sqrt(2 / (n_in + n_out)).
    "he_avg_normal": (2.0, "fan_avg", "untruncated_normal"),
}

# Work budget: multiply-adds of one forward pass (depth x width^2 x batch). One
# forward+backward at the budget takes well under a second on two cores. 2**30 admits
# depth 150, width 128, batch 256 (6.3e8) with room to spare.
MAX_WORK = 2 ** 30
# Parameter budget (depth x width^2): keeps one request's weights, gradients and
# optimizer state to a few hundred MB on a server shared by every session.
MAX_PARAMS = 2 ** 24

# The loss the profile differentiates (fixed, so every view measures the same thing):
# a linear readout Dense(READOUT_UNITS) with glorot_uniform weights and zero bias on
# top of the last hidden layer, and the mean squared error against N(0, 1) targets.
READOUT_UNITS = 10
LOSS_DESCRIPTION = (
    "Loss: mean squared error between a linear readout Dense(10) of the last hidden "
    "layer (glorot_uniform, zero bias) and fixed N(0, 1) targets, averaged over the "
    "batch and the 10 outputs.")


def spec_field(default, help, *, low=None, high=None, choices=None, kind=None,
               open_low=False, many=None):
    """A spec field whose metadata holds its bounds, choices and help text. `many`: the
    field is a tuple of 1 to `many` values, each of `kind` within the bounds (a
    comma-separated list on the command line)."""
    return field(default=default, metadata=dict(help=help, low=low, high=high,
                                                choices=choices, kind=kind, open_low=open_low,
                                                many=many))


_f = spec_field


class Spec:
    """Base of the frozen specs (ModelSpec, TrainingSpec, ThroughTimeSpec): every field
    is checked against its metadata on construction; ValueError names the field."""

    def __post_init__(self):
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, check_field(f, getattr(self, f.name)))

    @classmethod
    def field_map(cls) -> dict:
        return {f.name: f for f in dataclasses.fields(cls)}

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ModelSpec(Spec):
    """A fully connected network of `depth` hidden layers of `width` units."""
    depth: int = _f(20, "hidden layers", low=1, high=200, kind=int)
    width: int = _f(128, "units per hidden layer", low=2, high=1024, kind=int)
    input_dim: int | None = _f(None, "input features (default: width)", low=1, high=1024,
                               kind=int)
    batch_size: int = _f(256, "examples in the batch", low=1, high=2048, kind=int)
    input_std: float = _f(1.0, "inputs are drawn from N(0, input_std^2)", low=0.0,
                          high=1000.0, kind=float, open_low=True)
    seed: int = _f(0, "random seed for weights, inputs and targets", low=0,
                   high=2 ** 31 - 1, kind=int)
    dtype: str = _f("float32", "floating-point precision", choices=DTYPES, kind=str)
    activation: str = _f("tanh", "activation of every hidden layer", choices=ACTIVATIONS,
                         kind=str)
    negative_slope: float = _f(0.01, "leaky_relu: slope for negative inputs", low=0.0,
                               high=1.0, kind=float)
    init: str = _f("glorot_normal", "kernel initializer of every hidden layer",
                   choices=INITS, kind=str)
    gain: float = _f(1.0, "identity / orthogonal: W = gain * I or gain * Q", low=0.0,
                     high=10.0, kind=float)
    stddev: float = _f(0.05, "random_normal: standard deviation", low=0.0, high=10.0,
                       kind=float, open_low=True)
    limit: float = _f(0.05, "random_uniform: W ~ U[-limit, limit]", low=0.0, high=10.0,
                      kind=float, open_low=True)
    scale: float = _f(1.0, "variance_scaling: Var(W) = scale / n_in", low=0.0, high=100.0,
                      kind=float, open_low=True)
    no_bias: bool = _f(False, "hidden layers have no bias vector", kind=bool)
    bias_stddev: float = _f(0.0, "biases drawn from N(0, bias_stddev^2); 0 = zeros",
                            low=0.0, high=10.0, kind=float)
    batch_norm: bool = _f(False, "Dense -> BatchNormalization (batch statistics) -> "
                          "activation", kind=bool)
    residual: bool = _f(False, "identity skip connection around every hidden layer "
                        "after the first", kind=bool)
    residual_scale: float = _f(1.0, "residual only (no effect without it): every skipped "
                               "layer (2 to depth) is h + residual_scale x branch(h); 1 is "
                               "the plain skip, 1/sqrt(depth) keeps the forward variance "
                               "O(1), 0 makes each skipped layer the identity at "
                               "initialization (and, in training, a learned scale that "
                               "starts at 0: SkipInit/ReZero)", low=0.0, high=10.0,
                               kind=float)

    def __post_init__(self):
        super().__post_init__()
        if self.work > MAX_WORK:
            raise ValueError(
                f"depth x width^2 x batch_size = {self.work:.3g} multiply-adds is over the "
                f"work budget of {MAX_WORK:.3g}: reduce depth, width or batch_size")
        if self.params > MAX_PARAMS:
            raise ValueError(
                f"depth x width^2 = {self.params:.3g} weights is over the budget of "
                f"{MAX_PARAMS:.3g}: reduce depth or width")

    @property
    def n_in(self) -> int:
        """Fan-in of the first hidden layer."""
        return self.width if self.input_dim is None else self.input_dim

    @property
    def work(self) -> int:
        return self.depth * self.width * max(self.width, self.n_in) * self.batch_size

    @property
    def params(self) -> int:
        return self.depth * self.width * max(self.width, self.n_in)


def describe_field(f) -> str:
    """What a spec field accepts, in words."""
    meta = f.metadata
    kind = meta["kind"]
    if meta.get("many"):
        one = describe_field(_single(f))
        return f"a comma-separated list of 1 to {meta['many']} values, each {one}"
    if meta["choices"]:
        return "one of " + ", ".join(meta["choices"])
    if kind is bool:
        return "true or false"
    if kind is int:
        return f"an integer from {meta['low']} to {meta['high']}"
    if meta["open_low"]:
        return f"a number above {meta['low']:g} up to {meta['high']:g}"
    return f"a number from {meta['low']:g} to {meta['high']:g}"


def _single(f):
    """One element of a `many` field: the same field without `many`."""
    single = field(default=None, metadata={**f.metadata, "many": None})
    single.name = f.name
    return single


def check_field(f, value):
    """`value` converted to the field's kind; ValueError naming the field if it is bad."""
    meta = f.metadata
    if value is None and f.default is None:
        return None
    if meta.get("many"):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple,
                                                                      np.ndarray)) \
                or not 1 <= len(value) <= meta["many"]:
            raise ValueError(f"{f.name} must be {describe_field(f)} (got {value!r})")
        return tuple(check_field(_single(f), one) for one in value)
    name, kind = f.name, meta["kind"]
    problem = ValueError(f"{name} must be {describe_field(f)} (got {value!r})")
    if kind is bool:
        if not isinstance(value, bool):
            raise problem
        return value
    if kind is str:
        if value not in meta["choices"]:
            raise problem
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise problem
    if kind is int:
        if float(value) != math.floor(float(value)):
            raise problem
        value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise problem
    low, high = meta["low"], meta["high"]
    if value < low or value > high or (meta["open_low"] and value <= low):
        raise problem
    return value


def parse_bool(text: str) -> bool:
    """'true'/'1'/'yes'/'on' or 'false'/'0'/'no'/'off' (any case); ValueError otherwise."""
    lowered = str(text).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not true or false: {text!r}")


def parse_field(f, text: str) -> Any:
    """Parse one spec field from text (a CLI flag or a URL parameter); ValueError if bad."""
    kind = f.metadata["kind"]
    text = str(text).strip()
    if f.default is None and text.lower() in ("", "none", "default"):
        return None
    if f.metadata.get("many"):
        parts = [part for part in text.split(",") if part.strip()]
        try:
            return check_field(f, [parse_field(_single(f), part) for part in parts])
        except ValueError:
            raise ValueError(f"{f.name} must be {describe_field(f)} (got {text!r})") \
                from None
    try:
        if kind is bool:
            return parse_bool(text)
        if kind is int:
            number = float(text)
            return check_field(f, int(number) if number.is_integer() else number)
        if kind is float:
            return check_field(f, float(text))
        return check_field(f, text)
    except (ValueError, OverflowError):
        raise ValueError(f"{f.name} must be {describe_field(f)} (got {text!r})") from None
