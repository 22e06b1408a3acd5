"""Born dead (Lu et al. 2019): how often a ReLU network is dead before training starts.

With zero biases and symmetric weights, a ReLU network of width n and depth L is dead
at a given input (some hidden layer outputs all zeros, so every gradient below it is 0)
with probability 1 - (1 - 2^-n)^L (theory): each layer's n pre-activations are
independent and symmetric given a non-zero input, so all n are <= 0 with chance 2^-n.

Measured: `seeds` networks drawn by one Keras initializer call (weights of every seed
and layer stacked, each slice with its own fan-in and fan-out), one N(0, 1) input per
network, the forward pass in TensorFlow. BornDeadSpec holds every default and bound.
CLI: `python -m core born-dead ...` (core.cli).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .cache import memoize
from .spec import Spec, spec_field

SYMMETRIC_INITS = ("he_normal", "he_uniform", "glorot_normal", "glorot_uniform",
                   "lecun_normal", "random_normal")
MAX_BORN_DEAD_WORK = 2 ** 27  # seeds x depth x width^2 weights drawn at once
COLUMNS = ["width", "depth", "seeds", "dead_count", "measured_fraction",
           "standard_error", "theory_fraction"]

_f = spec_field


@dataclass(frozen=True)
class BornDeadSpec(Spec):
    """`seeds` ReLU networks of `depth` x `width`, zero biases, symmetric weights."""
    width: int = _f(4, "units per hidden layer", low=1, high=64, kind=int)
    depth: int = _f(50, "hidden layers", low=1, high=1000, kind=int)
    seeds: int = _f(1000, "networks drawn (one seed each)", low=1, high=100_000, kind=int)
    seed: int = _f(0, "random seed of the first network", low=0, high=2 ** 31 - 1,
                   kind=int)
    init: str = _f("he_normal", "kernel initializer (symmetric: the sign of each weight "
                   "is a fair coin)", choices=SYMMETRIC_INITS, kind=str)

    def __post_init__(self):
        super().__post_init__()
        work = self.seeds * self.depth * self.width ** 2
        if work > MAX_BORN_DEAD_WORK:
            raise ValueError(f"seeds x depth x width^2 = {work:.3g} weights is over the "
                             f"budget of {MAX_BORN_DEAD_WORK:.3g}: reduce seeds, depth or "
                             f"width")


def theory_fraction(width: int, depth: int) -> float:
    """1 - (1 - 2^-n)^L, computed without cancellation for wide nets."""
    return -math.expm1(depth * math.log1p(-2.0 ** -width))


def draw(spec: BornDeadSpec):
    """(kernels (seeds, depth, width, width), inputs (seeds, width)): every network's
    weights from one Keras initializer call, each (n, n) slice with its own fans."""
    from .spec import ModelSpec
    from .tf_setup import keras
    from .weights import kernel_initializer, layer_seed
    init = kernel_initializer(ModelSpec(init=spec.init, stddev=1.0), layer_seed(spec.seed, 5))
    if spec.init != "random_normal":
        init = keras.initializers.VarianceScaling(
            **{**init.get_config(), "input_axes": [2], "output_axes": [3]})
    kernels = init((spec.seeds, spec.depth, spec.width, spec.width), dtype="float32")
    inputs = np.random.default_rng([spec.seed, 2026]).normal(size=(spec.seeds, spec.width))
    return kernels, inputs.astype("float32")


def dead_layers(spec: BornDeadSpec) -> np.ndarray:
    """For each network, the first hidden layer whose output is all zero (0: alive)."""
    from .tf_setup import tf
    kernels, inputs = draw(spec)
    h, alive = tf.constant(inputs), []
    for layer in range(spec.depth):
        h = tf.nn.relu(tf.einsum("sn,snm->sm", h, kernels[:, layer]))
        alive.append(tf.reduce_any(h > 0, axis=1).numpy())
    dead = ~np.stack(alive, axis=1)  # (seeds, depth)
    return np.where(dead.any(axis=1), dead.argmax(axis=1) + 1, 0)


@memoize(entries=64)
def born_dead(spec: BornDeadSpec) -> pd.DataFrame:
    """One row: COLUMNS (measured over the seeds beside theory)."""
    first = dead_layers(spec)
    count = int((first > 0).sum())
    fraction = count / spec.seeds
    return pd.DataFrame([dict(
        width=spec.width, depth=spec.depth, seeds=spec.seeds, dead_count=count,
        measured_fraction=fraction,
        standard_error=math.sqrt(max(fraction * (1 - fraction), 0.0) / spec.seeds),
        theory_fraction=theory_fraction(spec.width, spec.depth))])[COLUMNS]


def over_widths(spec: BornDeadSpec, widths=tuple(range(1, 13))) -> pd.DataFrame:
    """born_dead at each width (the page's chart), other fields as in `spec`."""
    return pd.concat([born_dead(spec.replace(width=int(width))) for width in widths],
                     ignore_index=True)


def safe_width(depth: int, risk: float = 0.01) -> int:
    """The narrowest width whose theory fraction dead is below `risk` at this depth."""
    width = 1
    while theory_fraction(width, depth) >= risk:
        width += 1
    return width


def born_dead_text(table: pd.DataFrame) -> str:
    """What the chart shows, with its own numbers."""
    from .summary import format_number
    depth = int(table["depth"].iloc[0])
    narrow = table.iloc[0]
    mid = table[table["width"] == 6].iloc[0] if (table["width"] == 6).any() \
        else table.iloc[len(table) // 2]
    return (f"At depth {depth}: {narrow.measured_fraction:.0%} of width-"
            f"{int(narrow.width)} networks and {mid.measured_fraction:.0%} of width-"
            f"{int(mid.width)} networks were dead (theory {mid.theory_fraction:.0%}); "
            f"none of their weights below the dead layer will ever get a gradient. Theory "
            f"needs width {safe_width(depth)} to bring the risk under 1% "
            f"({format_number(theory_fraction(safe_width(depth), depth) * 100)}%).")
