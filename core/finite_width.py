"""Finite width (Hanin 2018; Hanin & Rolnick 2018): one seed is not the whole story.

At finite width n the signal gain of a random network fluctuates from seed to seed. For
ReLU with He initialization, zero biases and one input, the per-layer ratios
r_l = ||h_l||^2 / ||h_{l-1}||^2 are independent, E r_l = 1 exactly and Var r_l = 5/n
((2/n) chi^2 over the ~n/2 active units). So ln(||h_L||^2/||x||^2) is a sum of L
independent terms: mean about -5L/(2n) and variance about 5L/n (theory, first order
in L/n). Wide and shallow is predictable; deep and narrow is a lottery.

Measured: network `seed + k` (k < seeds) is exactly core.per_layer's ModelSpec with that
seed (core.weights.make_weights draws it with Keras' seeded initializers), and chunks of
seeds run through one traced TensorFlow pass, batched over seeds: every layer's
||h_l||, and one tf.GradientTape for dLoss/dh_1 and dLoss/dh_L (the loss is the
profile's: MSE of the Dense(10) readout against fixed N(0, 1) targets, summed over
seeds, which do not interact). Tests check a seed against core.per_layer.
FiniteWidthSpec holds every default and bound. CLI: `python -m core seeds ...`.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .cache import memoize
from .spec import ModelSpec, Spec, spec_field

SEED_COLUMNS = ["seed", "forward_gain", "backward_gain"]
FAN_COLUMNS = ["seed", "layer", "log_gain_sq"]
MAX_SEEDS_WORK = 2 ** 28  # seeds x depth x width^2 weights drawn for one spec
MAX_SEEDS_PASS = 2 ** 34  # seeds x depth x width^2 x batch multiply-adds (the phase grid's)
CHUNK_WEIGHTS = 2 ** 23  # weights held at once (float32: 32 MB); seeds run in chunks
THEORY_INITS = ("he_normal", "he_uniform")  # Var(W) = 2 / n_in exactly
SPREAD_WIDTHS = (8, 16, 32, 64, 128)  # the page's widths
PAGE_SEEDS = 100  # networks per width on the page
PAGE_DEPTH, PAGE_WIDTH = 20, 16  # the page's default view (pages/warmup.py caches it)


def _model(name: str, default=None, **overrides):
    """A field with ModelSpec's help and bounds (the same flag, URL name and check)."""
    f = ModelSpec.field_map()[name]
    meta = {**f.metadata, **overrides}
    return spec_field(f.default if default is None else default, meta["help"],
                      low=meta["low"], high=meta["high"], choices=meta["choices"],
                      kind=meta["kind"], open_low=meta["open_low"])


@dataclass(frozen=True)
class FiniteWidthSpec(Spec):
    """`seeds` networks, seeds seed, seed + 1, ...; every other field as ModelSpec's."""
    seeds: int = spec_field(100, "networks drawn, one per seed (seed, seed + 1, ...)",
                            low=2, high=10_000, kind=int)
    depth: int = _model("depth", 50)
    width: int = _model("width", 128)
    batch_size: int = _model("batch_size", 1)
    input_std: float = _model("input_std")
    seed: int = _model("seed", help="seed of the first network (then seed + 1, ...)")
    dtype: str = _model("dtype", choices=("float32", "float64"))
    activation: str = _model("activation", "relu")
    negative_slope: float = _model("negative_slope")
    init: str = _model("init", "he_normal")
    gain: float = _model("gain")
    stddev: float = _model("stddev")
    limit: float = _model("limit")
    scale: float = _model("scale")
    no_bias: bool = _model("no_bias")
    bias_stddev: float = _model("bias_stddev")

    def __post_init__(self):
        super().__post_init__()
        one = self.network(self.seed)  # ModelSpec's budgets for one network
        if self.seed + self.seeds - 1 > 2 ** 31 - 1:
            raise ValueError("seed + seeds - 1 must be at most 2^31 - 1: lower seed")
        work = self.seeds * self.depth * self.width ** 2
        if work > MAX_SEEDS_WORK:
            raise ValueError(f"seeds x depth x width^2 = {work:.3g} weights is over the "
                             f"budget of {MAX_SEEDS_WORK:.3g}: reduce seeds, depth or width")
        if self.seeds * one.work > MAX_SEEDS_PASS:
            raise ValueError(f"seeds x depth x width^2 x batch_size = "
                             f"{self.seeds * one.work:.3g} multiply-adds is over the budget "
                             f"of {MAX_SEEDS_PASS:.3g}: reduce seeds or batch_size")

    def network(self, seed: int) -> ModelSpec:
        """The ModelSpec of one seed's network (what core.per_layer profiles)."""
        fields = {name: value for name, value in self.to_dict().items() if name != "seeds"}
        return ModelSpec(**{**fields, "seed": seed})


def theory_applies(spec: FiniteWidthSpec) -> str | None:
    """None when the 5L/n theory covers this setting, else why it does not."""
    if spec.activation != "relu" or spec.init not in THEORY_INITS:
        return (f"Theory gives the band for ReLU with He initialization only, not for "
                f"{spec.activation} with {spec.init}.")
    if spec.bias_stddev > 0 and not spec.no_bias:
        return "Theory gives the band for zero biases only."
    if spec.batch_size != 1:
        return "Theory gives the band for one input (batch size 1) only."
    return None


def theory_moments(layer, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean, variance) of ln(||h_l||^2/||x||^2) after `layer` ReLU+He layers (theory,
    Hanin & Rolnick 2018, first order in l/n): -5l/(2n) and 5l/n."""
    layer = np.asarray(layer, dtype=np.float64)
    return -2.5 * layer / width, 5.0 * layer / width


_passes: dict = {}
_lock = threading.Lock()


def _build(activation: str, dtype: str):
    from .activations import activation_fn
    from .per_layer import over_layers, safe_norm
    from .tf_setup import tf
    phi = activation_fn(activation)
    cube = tf.TensorSpec([None, None, None], dtype)

    @tf.function(input_signature=[cube, cube, tf.TensorSpec([None, None, None, None], dtype),
                                  cube, cube, cube, tf.TensorSpec([], dtype)],
                 reduce_retracing=True,
                 autograph=False)  # the loop: core.per_layer.over_layers
    def run(x, first, kernels, biases, readout, targets, negative_slope):
        """x (S, B, n_in), first (S, n_in, n), kernels (S, L-1, n, n), biases (S, L, n),
        readout (S, n, 10), targets (S, B, 10) -> (||h_l|| (S, L), ||dLoss/dh_1||,
        ||dLoss/dh_L|| (S,))."""
        depth = tf.shape(biases)[1]
        norms = tf.TensorArray(dtype, size=depth)
        h1 = phi(tf.matmul(x, first) + biases[:, 0:1, :], negative_slope)
        norms = norms.write(0, safe_norm(h1, axes=[1, 2]))
        with tf.GradientTape() as tape:
            tape.watch(h1)

            def next_layer(index, h, norms):
                h = phi(tf.matmul(h, kernels[:, index - 1]) + biases[:, index:index + 1, :],
                        negative_slope)
                return h, norms.write(index, safe_norm(tf.stop_gradient(h), axes=[1, 2]))
            h, norms = over_layers(depth, next_layer, h1, norms)
            h_last = tf.identity(h)
            error = tf.matmul(h_last, readout) - targets
            loss = tf.reduce_sum(tf.reduce_mean(tf.square(error), axis=[1, 2]))
        first_grad, last_grad = tape.gradient(loss, [h1, h_last])
        return (tf.transpose(norms.stack()), safe_norm(first_grad, axes=[1, 2]),
                safe_norm(last_grad, axes=[1, 2]))

    return run


def _pass_for(spec: FiniteWidthSpec):
    with _lock:
        key = (spec.activation, spec.dtype)
        if key not in _passes:
            _passes[key] = _build(*key)
        return _passes[key]


def _chunk(spec: FiniteWidthSpec, seeds: range):
    """(layer norms (S, L), first and last signal norms (S,), input norms (S,)) of the
    networks of `seeds`, each drawn exactly as core.per_layer draws it."""
    from .weights import drawing_pool, make_data, make_weights

    def draw(seed):
        network = spec.network(seed)
        return make_weights(network), make_data(network)
    draws = list(drawing_pool().map(draw, seeds))
    first, stack, biases, readout = (np.stack([draw[0][i] for draw in draws])
                                     for i in range(4))
    if spec.no_bias:
        biases = np.zeros_like(biases)
    x, targets = (np.stack([draw[1][i] for draw in draws]) for i in range(2))
    if spec.depth == 1:  # no kernels after the first: an empty stack of the right rank
        stack = np.zeros((len(seeds), 0, spec.width, spec.width), dtype=spec.dtype)
    norms, first_norm, last_norm = _pass_for(spec)(
        x, first, stack, biases, readout, targets,
        np.asarray(spec.negative_slope, dtype=spec.dtype))
    input_norm = np.sqrt(np.square(x.astype(np.float64)).sum(axis=(1, 2)))
    return (norms.numpy().astype(np.float64), first_norm.numpy().astype(np.float64),
            last_norm.numpy().astype(np.float64), input_norm)


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """top / bottom with 0/0 as nan and x/0 as inf, silently (named on the page)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return top / bottom


@memoize(entries=64)
def measure(spec: FiniteWidthSpec) -> dict:
    """{"seeds": one row per seed (SEED_COLUMNS), "fan": one row per seed and layer
    (FAN_COLUMNS, ln(||h_l||^2/||x||^2): -inf when h_l is all zero, inf on overflow and
    nan in the layers after it, where inf x 0 = nan)}."""
    per_chunk = max(1, CHUNK_WEIGHTS // (spec.depth * spec.width ** 2))
    parts = []
    for start in range(spec.seed, spec.seed + spec.seeds, per_chunk):
        seeds = range(start, min(start + per_chunk, spec.seed + spec.seeds))
        parts.append(_chunk(spec, seeds))
    norms, first, last, inputs = (np.concatenate([part[i] for part in parts])
                                  for i in range(4))
    seed_numbers = np.arange(spec.seed, spec.seed + spec.seeds)
    with np.errstate(divide="ignore"):
        log_gain_sq = 2 * (np.log(norms) - np.log(inputs)[:, None])
    seeds = pd.DataFrame({"seed": seed_numbers, "forward_gain": _ratio(norms[:, -1], inputs),
                          "backward_gain": _ratio(first, last)})
    fan = pd.DataFrame({"seed": np.repeat(seed_numbers, spec.depth),
                        "layer": np.tile(np.arange(1, spec.depth + 1), spec.seeds),
                        "log_gain_sq": log_gain_sq.ravel()})
    return {"seeds": seeds[SEED_COLUMNS], "fan": fan[FAN_COLUMNS]}


def seed_table(spec: FiniteWidthSpec) -> pd.DataFrame:
    """One row per seed: seed, forward_gain ||h_L||/||x||, backward_gain
    ||dLoss/dh_1||/||dLoss/dh_L|| (the CLI's table)."""
    return measure(spec)["seeds"]


def layer_spread(spec: FiniteWidthSpec, fan: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per layer: the seeds' mean and variance of ln gain² (living seeds: finite values),
    the seeds dead (gain 0), overflowed (inf, and nan after it: inf x 0) and the theory's mean and variance (nan
    where theory_applies gives a reason)."""
    fan = measure(spec)["fan"] if fan is None else fan
    finite = fan[np.isfinite(fan["log_gain_sq"])]
    grouped = finite.groupby("layer")["log_gain_sq"]
    layers = np.arange(1, spec.depth + 1)
    table = pd.DataFrame({"width": spec.width, "depth": spec.depth, "layer": layers,
                          "layers_per_width": layers / spec.width})
    table["measured_mean"] = grouped.mean().reindex(layers).to_numpy()
    table["measured_var"] = grouped.var(ddof=1).reindex(layers).to_numpy()
    values = fan["log_gain_sq"].to_numpy().reshape(spec.seeds, spec.depth)
    table["dead_seeds"] = (values == -np.inf).sum(axis=0)
    table["overflow_seeds"] = ((values == np.inf) | np.isnan(values)).sum(axis=0)
    mean, var = theory_moments(layers, spec.width)
    covered = theory_applies(spec) is None
    table["theory_mean"] = mean if covered else np.nan
    table["theory_var"] = var if covered else np.nan
    return table


def is_cached(spec: FiniteWidthSpec, widths=SPREAD_WIDTHS) -> bool:
    return all(measure.contains(spec.replace(width=int(width))) for width in widths)


def spread_over_widths(spec: FiniteWidthSpec, widths=SPREAD_WIDTHS, on_width=None):
    """layer_spread at each width (the page's width-vs-depth chart), other fields as in
    `spec`. `on_width(done, total)` reports progress while the widths are measured."""
    widths = tuple(int(width) for width in widths)
    if on_width is not None and not _spread_table.contains(spec, widths):
        for done, width in enumerate(widths, start=1):
            measure(spec.replace(width=width))
            on_width(done, len(widths))
    return _spread_table(spec, widths)


@memoize(entries=64)
def _spread_table(spec: FiniteWidthSpec, widths: tuple) -> pd.DataFrame:
    """spread_over_widths' table, kept: the page asks for it at every rerun."""
    return pd.concat([layer_spread(spec.replace(width=width)) for width in widths],
                     ignore_index=True)


def spread_text(spread: pd.DataFrame, spec: FiniteWidthSpec) -> str:
    """What the width-vs-depth chart shows, with its own numbers."""
    from .summary import format_number
    last = spread[spread["layer"] == spread["depth"]].sort_values("width")
    narrow, wide = last.iloc[0], last.iloc[-1]

    def factor(row):  # middle 95% of gains (ln gain = ln gain² / 2, about normal)
        return format_number(math.exp(2 * 1.96 * math.sqrt(row.measured_var) / 2))
    text = (f"At depth {spec.depth}, the variance over seeds of the last layer's ln gain² "
            f"is {format_number(wide.measured_var)} at width {int(wide.width)} but "
            f"{format_number(narrow.measured_var)} at width {int(narrow.width)}: the middle "
            f"95% of seeds' gains ‖h_L‖/‖x‖ span a factor of about {factor(wide)} and "
            f"{factor(narrow)}.")
    if int(narrow.dead_seeds):
        text += (f" {int(narrow.dead_seeds)} of {spec.seeds} width-{int(narrow.width)} "
                 f"networks were dead (gain 0) and are left out of the variance.")
    return text
