"""The "Why it happens" page's experiments: the activations' slopes, Glorot & Bengio's
Figure 2 networks at initialization, and variance propagation over a few seeds, with
the sentences the page shows about them.

Measurements go through core.per_layer (cached there) and core.keras_model; theory
comes from core.theory; ratios and verdicts from core.summary. The page calls these
functions directly: the slow ones are cached by core.cache.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..cache import memoize
from ..spec import ModelSpec
from ..summary import format_number as _number
from ..summary import gradient_ratio, summarize
from ..theory import with_theory

CURVES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu")
SEEDS = 3  # networks averaged for a ratio whose single-seed value is noisy
FLAT_WITHIN = 2.0  # a weight-gradient ratio in [1/2, 2] counts as flat
OVERLAP_WITHIN = 0.005  # two saturation lines this close at every layer coincide


Z_RANGES = (2.0, 5.0, 10.0, 15.0)  # the curves are drawn for z from -r to r


@memoize(entries=len(Z_RANGES) + 1)
def slope_curves(names: tuple = CURVES, reach: float = 5.0) -> pd.DataFrame:
    """phi(z) and phi'(z) of the page's activations (core.activations), z in [-reach,
    reach]."""
    from ..activations import activation_curves
    return activation_curves(names, low=-float(reach), high=float(reach))


SLOPES_TEXT = (
    "Sigmoid's slope is at most 0.25 (at z = 0) and tanh's at most 1; both go flat in the "
    "tails (*saturation*: widen the range of z to see how flat). ReLU's slope is exactly 1 "
    "for z > 0 and 0 below; Leaky ReLU keeps a small slope (0.01 here) on the left; ELU "
    "and SELU curve smoothly below zero.")
GLOROT_BENGIO_TEXT = (
    "Glorot & Bengio (2010) blamed the sigmoid together with weights drawn from N(0, 1). "
    "Here are their networks at initialization: width 100, inputs from N(0, 1), and three "
    "initializations: N(0, 1), the then-standard U[−1/√n, 1/√n] and their normalized "
    "(Glorot) initialization.")


# --- Glorot & Bengio (2010) -------------------------------------------------------------
def glorot_bengio_specs(activation: str, depth: int = 8, width: int = 100,
                        batch_size: int = 256, seed: int = 0) -> dict[str, ModelSpec]:
    """Their three initializations (section 4), for width n."""
    base = dict(depth=depth, width=width, batch_size=batch_size, activation=activation,
                seed=seed)
    return {
        "N(0, 1)": ModelSpec(init="random_normal", stddev=1.0, **base),
        f"standard U[±1/√{width}]": ModelSpec(init="random_uniform",
                                              limit=1 / math.sqrt(width), **base),
        "Glorot (normalized)": ModelSpec(init="glorot_uniform", **base),
    }


def activation_histograms(spec: ModelSpec, bins: int = 40) -> pd.DataFrame:
    """Share of (example, unit) outputs per bin at every hidden layer of a Keras model."""
    from ..keras_model import build_keras_model
    from ..weights import make_data, make_weights
    model = build_keras_model(spec, make_weights(spec))
    x, _ = make_data(spec)
    _, *hidden = model(x)
    low, high = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}.get(spec.activation, (-3, 3))
    edges = np.linspace(low, high, bins + 1)
    frames = []
    for layer, h in enumerate(hidden, start=1):
        values = np.asarray(h, dtype=np.float64).ravel()
        counts, _ = np.histogram(np.clip(values, low, high), bins=edges)
        frames.append(pd.DataFrame({"layer": layer, "bin_start": edges[:-1],
                                    "bin_end": edges[1:],
                                    "bin_center": 0.5 * (edges[:-1] + edges[1:]),
                                    "fraction": counts / values.size}))
    return pd.concat(frames, ignore_index=True)


@memoize(entries=16)
def glorot_bengio(activation: str, depth: int = 8, width: int = 100, seed: int = 0):
    """(histograms, per-layer profiles, summary): the first two stacked with an `init`
    column, the summary one row per initialization (glorot_bengio_summary)."""
    from ..per_layer import profile
    histograms, profiles = [], []
    for label, spec in glorot_bengio_specs(activation, depth, width, seed=seed).items():
        histograms.append(activation_histograms(spec).assign(init=label))
        profiles.append(with_theory(spec, profile(spec)).assign(init=label))
    profiles = pd.concat(profiles, ignore_index=True)
    return (pd.concat(histograms, ignore_index=True), profiles,
            glorot_bengio_summary(profiles))


def _ratio(first: pd.Series, last: pd.Series, column: str) -> float:
    return gradient_ratio(float(first[column]), float(last[column]))


def glorot_bengio_summary(profiles: pd.DataFrame) -> pd.DataFrame:
    """One row per initialization: first/last layer statistics and gradient ratios."""
    rows = []
    for name, table in profiles.groupby("init", sort=False):
        first, last = table.iloc[0], table.iloc[-1]
        top = int(last["layer"])
        rows.append({
            # the ratios first: the page's notes cite them, and a narrow table must
            # not hide them
            "initialization": name,
            "signal ratio 1 / L": _ratio(first, last, "signal_grad_norm"),
            "weight-gradient ratio 1 / L": _ratio(first, last, "weight_grad_norm"),
            "saturated (mean over layers)": table["saturated_fraction"].mean(),
            "pre-activation std, layer 1": first["preactivation_std"],
            f"pre-activation std, layer {top}": last["preactivation_std"],
            "activation std, layer 1": first["activation_std"],
            f"activation std, layer {top}": last["activation_std"],
            f"activation mean, layer {top}": last["activation_mean"]})
    return pd.DataFrame(rows)


def coinciding(profiles: pd.DataFrame, column: str = "saturated_fraction") -> list[str]:
    """Pairs of initializations whose `column` lines agree within OVERLAP_WITHIN."""
    lines = profiles.pivot(index="layer", columns="init", values=column)
    names = list(lines.columns)
    return [f"{a} and {b}" for i, a in enumerate(names) for b in names[i + 1:]
            if (lines[a] - lines[b]).abs().max() < OVERLAP_WITHIN]


def saturation_caption(profiles: pd.DataFrame) -> str:
    """The saturation chart's caption: the definition, and which lines coincide."""
    from ..per_layer import SATURATION_DEFINITION
    overlapping = coinciding(profiles)
    return SATURATION_DEFINITION + (
        f" Here the lines of {'; '.join(overlapping)} coincide (within 0.5% at every "
        f"layer): they are told apart by dash and marker." if overlapping else "")


def glorot_bengio_note(summary: pd.DataFrame, activation: str, depth: int) -> str:
    """The notes against the measurement, from glorot_bengio's summary."""
    normal, uniform, glorot = (summary.iloc[i] for i in range(3))
    last = depth
    if activation != "sigmoid":
        return (
            f"tanh is zero-centred: its outputs have mean near 0 (measured "
            f"{_number(normal[f'activation mean, layer {last}'])} at layer {last} "
            f"with N(0, 1) weights) where sigmoid's sit at 0.5, so the next layer's inputs "
            f"are not all positive. With the standard init the signal ratio is "
            f"{_number(uniform['signal ratio 1 / L'])}; with Glorot's "
            f"{_number(glorot['signal ratio 1 / L'])}.")
    return (
        f"**The notes vs the measurement.** The notes say that with N(0, 1) weights the "
        f"variance grows layer after layer until the top layers saturate. Measured here, "
        f"the pre-activations are already wide at layer 1 (std "
        f"{_number(normal['pre-activation std, layer 1'])}, of order √n) and "
        f"stay so (std {_number(normal[f'pre-activation std, layer {last}'])} "
        f"at layer {last}); the outputs pile up at 0 and 1 with an activation std of "
        f"{_number(normal['activation std, layer 1'])} at layer 1 and "
        f"{_number(normal[f'activation std, layer {last}'])} at layer {last}: "
        f"no growth. The back-propagated signal barely changes (ratio layer 1 / layer "
        f"{last}: {_number(normal['signal ratio 1 / L'])}) while the weight "
        f"gradient at layer 1 is {_number(normal['weight-gradient ratio 1 / L'])}"
        f"× that at layer {last}. With U[−0.1, 0.1] the outputs collapse toward 0.5 "
        f"(mean {_number(uniform[f'activation mean, layer {last}'])}, std "
        f"{_number(uniform[f'activation std, layer {last}'])} at layer {last}) "
        f"and the signal ratio is {_number(uniform['signal ratio 1 / L'])}: it "
        f"vanishes because sigmoid's slope is at most 0.25. The top-layer "
        f"saturation of their Figure 2 appears **during training**.")


# --- Variance propagation over a few seeds ----------------------------------------------
def ratio_over_seeds(tables, column: str = "weight_grad_norm") -> dict:
    """Layer 1 / layer L of `column` in each table (one per seed) and their median.

    Per-layer log-norms of a finite-width network fluctuate by about sqrt(depth / width)
    from seed to seed, so one network's ratio can be off by a factor of 2 or more; the
    median of a few seeds is the figure to quote. Keys: median, per_seed (list), low,
    high, flat (median within [1/FLAT_WITHIN, FLAT_WITHIN]).
    """
    per_seed = [gradient_ratio(float(t[column].iloc[0]), float(t[column].iloc[-1]))
                for t in tables]
    values = np.asarray(per_seed, dtype=np.float64)
    median = float(np.median(values)) if not np.isnan(values).any() else math.nan
    return dict(median=median, per_seed=per_seed, low=float(np.min(values)),
                high=float(np.max(values)),
                flat=bool(1 / FLAT_WITHIN <= median <= FLAT_WITHIN))


def variance_propagation(activation: str, init: str, depth: int, width: int) -> dict:
    """One network measured with theory beside it, and its ratios over SEEDS seeds.

    Keys: spec, seeds (the specs), table (seed 0's profile with theory columns and an
    `init` column), summary (core.summary.summarize of it), theory_ratio, and weights
    and signals (ratio_over_seeds of the weight gradient and of the signal)."""
    from ..per_layer import profiles
    spec = ModelSpec(depth=depth, width=width, batch_size=128, activation=activation,
                     init=init)
    seeds = [spec.replace(seed=spec.seed + k) for k in range(SEEDS)]
    first, *others = profiles(seeds)  # side by side: two cores
    table = with_theory(spec, first).assign(init=init)
    tables = [table] + others
    return dict(spec=spec, seeds=seeds, table=table, summary=summarize(table),
                theory_ratio=summarize(table, "theory_signal")["ratio"],
                weights=ratio_over_seeds(tables),
                signals=ratio_over_seeds(tables, "signal_grad_norm"))


def seeds_help(run: dict) -> str:
    """The weight-gradient metric's help: each seed's ratio."""
    return ("‖dLoss/dW_1‖ / ‖dLoss/dW_L‖, measured for seeds " + ", ".join(
        f"{one.seed}: {_number(value)}"
        for one, value in zip(run["seeds"], run["weights"]["per_seed"])) +
        ". One network's value is noisy: per-layer log-norms fluctuate by about "
        "√(depth / width) from seed to seed.")


def flatness_text(run: dict) -> str:
    """Whether the weight gradient is flat across layers, against the signal's ratios."""
    weights, seeds, depth = run["weights"], run["seeds"], run["spec"].depth
    seed_text = ", ".join(_number(v) for v in weights["per_seed"])
    signal_text = ", ".join(_number(v) for v in run["signals"]["per_seed"])
    if weights["flat"]:
        return (f"Here the weight gradient **is flat** within the seed-to-seed noise "
                f"(a factor of 2): its ratio layer 1 / layer {depth} "
                f"is {_number(weights['median'])} (median of seeds "
                f"{seeds[0].seed} to {seeds[-1].seed}: {seed_text}) while the signal's "
                f"ratio for the same seeds is {signal_text}.")
    return (f"Here the weight gradient is **not** flat: its ratio layer 1 / layer "
            f"{depth} is {_number(weights['median'])} (median of seeds "
            f"{seeds[0].seed} to {seeds[-1].seed}: {seed_text}; the signal's for the "
            f"same seeds: {signal_text}). The product h_(l−1)·δ_l stays constant only "
            f"when the forward signal grows toward the input as fast as δ_l shrinks (or "
            f"the reverse); that holds near the linear regime (small weights, tanh), not "
            f"for every activation and initialization.")


def noise_caption(run: dict) -> str:
    """How noisy one seed's ratio is: sqrt(depth / width)."""
    spec = run["spec"]
    depth, width = spec.depth, spec.width
    return (f"Noise: the norms of one finite network fluctuate from seed to seed; per-layer "
            f"log-norms vary by about √(depth / width) = √({depth} / {width}) ≈ "
            f"{_number((depth / width) ** 0.5)}, so a single seed's ratio of two layers can be "
            f"off by a factor of 2 or more. The chart shows seed {spec.seed}; the "
            f"weight-gradient figure is the median over {SEEDS} seeds.")
