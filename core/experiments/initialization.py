"""The Initialization page's experiments: formulas, side-by-side runs, the init x
activation grid and the sigma_w sweep (Goldilocks zone), with the sentences the page
shows about them.

Every measurement goes through core.per_layer (one traced Keras/TensorFlow pass per
network, LRU-cached); theory comes from core.theory and is returned in its own columns.
The page calls the functions below directly: each is cached by core.cache.
CLI: `python -m core grid ...` and `python -m core sweep ...` (core.cli).
"""
from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from .. import theory
from ..cache import memoize
from ..spec import ModelSpec
from ..summary import format_number as _number
from ..theory import with_theory

# Ordered so that the matched pairs (glorot-tanh, he-relu, lecun-selu) sit near the
# diagonal.
GRID_INITS = ("random_normal", "glorot_normal", "he_normal", "he_avg_normal",
              "orthogonal", "lecun_normal")
GRID_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu")
GRID_BATCH = 32  # the grid needs a ratio per cell, not a precise histogram
SWEEP_ACTIVATIONS = ("tanh", "relu")
SWEEP_SIGMAS = tuple(np.round(np.geomspace(0.5, 3.0, 13), 3))

# Keras name -> (formula for Var(W) or the limit, LaTeX, what it was derived for)
FORMULAS = {
    "N(0, 1)": (r"W \sim \mathcal{N}(0,\,1)", "no activation: the bad example of the notes and of Glorot & Bengio"),
    "random_normal": (r"W \sim \mathcal{N}(0,\,0.05^2)", "Keras' RandomNormal default"),
    "standard uniform": (r"W \sim U\left[-\tfrac{1}{\sqrt{n_{in}}},\,\tfrac{1}{\sqrt{n_{in}}}"
                         r"\right],\ \mathrm{Var}(W)=\tfrac{1}{3\,n_{in}}",
                         "Glorot & Bengio's 'standard' heuristic"),
    "glorot_normal": (r"\mathrm{Var}(W)=\frac{2}{n_{in}+n_{out}}",
                      "tanh, sigmoid and softsign, as derived by Glorot & Bengio (2010); "
                      "measured, it suits tanh but deep sigmoid still vanishes "
                      "(section 3)"),
    "glorot_uniform": (r"W \sim U[-r, r],\ r=\sqrt{\frac{6}{n_{in}+n_{out}}}",
                       "tanh, sigmoid and softsign, as derived; Keras' Dense default; "
                       "measured, deep sigmoid still vanishes (section 3)"),
    "he_normal": (r"\mathrm{Var}(W)=\frac{2}{n_{in}}", "ReLU family (He et al. 2015)"),
    "he_uniform": (r"W \sim U[-r, r],\ r=\sqrt{\frac{6}{n_{in}}}", "ReLU family"),
    "leaky He": (r"\mathrm{Var}(W)=\frac{2}{(1+a^2)\,n_{in}}",
                 "Leaky ReLU with slope a (He et al. 2015)"),
    "he_avg_normal": (r"\sigma=\sqrt{2}\,\sqrt{\frac{2}{n_{in}+n_{out}}}",
                      "the course notes' He variant (fan average)"),
    "lecun_normal": (r"\mathrm{Var}(W)=\frac{1}{n_{in}}", "SELU (Klambauer et al. 2017)"),
    "orthogonal": (r"W = g\,Q,\ Q^\top Q = I",
                   "linear and deep nets: keeps every singular value at g (Saxe et al. 2013)"),
}


@memoize(entries=32)
def formula_table(n_in: int, n_out: int, negative_slope: float = 0.01,
                  seed: int = 0) -> pd.DataFrame:
    """Each initializer: theory std from its formula, and the std of a matrix Keras drew."""
    from ..tf_setup import keras
    init = keras.initializers
    fan_avg = (n_in + n_out) / 2.0
    gain2 = 2.0 / (1.0 + negative_slope ** 2)
    rows = {
        "N(0, 1)": (1.0, init.RandomNormal(stddev=1.0, seed=seed)),
        "random_normal": (0.05, init.RandomNormal(stddev=0.05, seed=seed)),
        "standard uniform": (math.sqrt(1 / (3 * n_in)), init.RandomUniform(
            -1 / math.sqrt(n_in), 1 / math.sqrt(n_in), seed=seed)),
        "glorot_normal": (math.sqrt(1 / fan_avg), init.GlorotNormal(seed=seed)),
        "glorot_uniform": (math.sqrt(1 / fan_avg), init.GlorotUniform(seed=seed)),
        "he_normal": (math.sqrt(2 / n_in), init.HeNormal(seed=seed)),
        "he_uniform": (math.sqrt(2 / n_in), init.HeUniform(seed=seed)),
        "leaky He": (math.sqrt(gain2 / n_in), init.VarianceScaling(
            gain2, "fan_in", "truncated_normal", seed=seed)),
        "he_avg_normal": (math.sqrt(2 / fan_avg), init.VarianceScaling(
            2.0, "fan_avg", "untruncated_normal", seed=seed)),
        "lecun_normal": (math.sqrt(1 / n_in), init.LecunNormal(seed=seed)),
        "orthogonal": (math.sqrt(1 / max(n_in, n_out)), init.Orthogonal(seed=seed)),
    }
    out = []
    for name, (std, initializer) in rows.items():
        drawn = np.asarray(initializer((n_in, n_out), dtype="float64"))
        latex, derived_for = FORMULAS[name]
        out.append(dict(initializer=name, latex=latex, derived_for=derived_for,
                        theory_std=std, n_in_var=n_in * std ** 2,
                        keras_std=float(drawn.std())))
    return pd.DataFrame(out)


def _spec(activation: str, init: str, depth: int, width: int, batch_size: int,
          seed: int, **extra) -> ModelSpec:
    return ModelSpec(depth=depth, width=width, batch_size=batch_size,
                     activation=activation, init=init, seed=seed, **extra)


@memoize(entries=32)
def compare(base: ModelSpec, inits: tuple) -> pd.DataFrame:
    """Profiles of `base` under each initializer, stacked with an `init` column."""
    from ..per_layer import profiles
    specs = [base.replace(init=init) for init in inits]
    frames = []
    for init, spec, table in zip(inits, specs, profiles(specs)):  # side by side
        frame = with_theory(spec, table)
        frame.insert(0, "init", init)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def describe(setting: dict) -> str:
    """A side-by-side setting in a few words: 'he_normal, relu, depth 30'."""
    return (f"{', '.join(setting['inits'])}, {setting['activation']}, depth "
            f"{setting['depth']}")


def with_pinned(profiles: pd.DataFrame, pinned: pd.DataFrame, label: str) -> pd.DataFrame:
    """`profiles` (from compare) with a pinned setting's profiles below them, each init
    named 'pinned: <init> (<label>)'; the pinned rows carry no theory columns, so they
    are drawn as measured lines only, beside the current setting's."""
    pinned = pinned.assign(init="pinned: " + pinned["init"] + f" ({label})")
    for column in pinned.columns:
        if column.startswith("theory_"):
            pinned[column] = np.nan
    return pd.concat([profiles, pinned], ignore_index=True)


def _cell_signals(spec: ModelSpec, weights, data) -> tuple:
    """(signal_grad_norm, weight_grad_norm, last activation std) of one grid cell.

    The same traced Keras/TensorFlow step as core.per_layer.compute_profile, fed with
    weights drawn once per initializer: make_weights does not depend on the activation,
    so the six cells of a row share one draw (drawing is ~half of a cell's time).
    Tests check the result equals core.per_layer on the same spec.
    """
    from ..per_layer import run_step
    stats, signal, weight_grad, _, _, _ = run_step(spec, weights, data)
    return signal.numpy(), weight_grad.numpy(), float(stats.numpy()[-1, 1])


@memoize(entries=8)
def grid(depth: int = 50, width: int = 128, batch_size: int = GRID_BATCH, seed: int = 0,
         inits=GRID_INITS, activations=GRID_ACTIVATIONS) -> pd.DataFrame:
    """Signal ratio layer 1 / layer L for every (init, activation), measured in Keras."""
    from ..summary import gradient_ratio, verdict_of
    from ..weights import make_data, make_weights
    start = time.perf_counter()
    rows = []
    for init in inits:
        weights = data = None
        for activation in activations:
            spec = _spec(activation, init, depth, width, batch_size, seed)
            if weights is None:
                weights, data = make_weights(spec), make_data(spec)
            signal, weight_grad, last_std = _cell_signals(spec, weights, data)
            ratio = gradient_ratio(float(signal[0]), float(signal[-1]))
            rows.append(dict(
                init=init, activation=activation, ratio=ratio,
                log10_ratio=math.log10(ratio) if 0 < ratio < math.inf else (
                    math.inf if ratio == math.inf else math.nan),
                verdict=verdict_of(ratio, bool((~np.isfinite(signal)).any()),
                                   bool((signal == 0).any())),
                weight_grad_ratio=gradient_ratio(float(weight_grad[0]),
                                                 float(weight_grad[-1])),
                theory_log10_ratio=theory.log10_ratio(theory.mean_field(spec)),
                last_activation_std=last_std))
    out = pd.DataFrame(rows)
    out.attrs["seconds"] = time.perf_counter() - start
    return out


@memoize(entries=8)
def sweep(depth: int = 30, width: int = 128, batch_size: int = 64, seed: int = 0,
          activations=SWEEP_ACTIVATIONS, sigmas=SWEEP_SIGMAS,
          theory_points: int = 121) -> pd.DataFrame:
    """Signal ratio against sigma_w (W ~ N(0, sigma_w^2 / n)), measured and theory rows.

    Columns: activation, sigma_w, kind ('measured' or 'theory'), ratio, log10_ratio.
    With zero biases every sigma_w is a point of the phase diagram at sigma_b2 = 0, so
    an activation's points are measured in one batched pass (core.phase_pass, tested
    equal to core.per_layer on each point's ModelSpec).
    """
    from .phase import PhaseSpec, measured_row
    rows = []
    for activation in activations:
        points = PhaseSpec(activation=activation, depth=depth, width=width,
                           batch_size=batch_size, seed=seed, sigma_b2=(0.0,),
                           sigma_w2=tuple(float(sigma) ** 2 for sigma in sigmas))
        for sigma_w2, point in zip(points.sigma_w2, measured_row(points, 0.0)):
            rows.append(dict(activation=activation, sigma_w=math.sqrt(sigma_w2),
                             kind="measured", ratio=point["measured_ratio"],
                             log10_ratio=point["measured_log10_ratio"]))
        curve = np.geomspace(min(sigmas), max(sigmas), theory_points)
        log_ratios = theory.log10_ratios(
            _spec(activation, "variance_scaling", depth, width, 1, seed,
                  scale=float(sigma) ** 2) for sigma in curve)
        for sigma, log_ratio in zip(curve, log_ratios):
            log_ratio = float(log_ratio)
            rows.append(dict(activation=activation, sigma_w=float(sigma), kind="theory",
                             ratio=10.0 ** log_ratio if log_ratio < 300 else math.inf,
                             log10_ratio=log_ratio))
    return pd.DataFrame(rows)


def critical_sigma(activation: str, negative_slope: float = 0.01) -> float | None:
    """Theory's edge of chaos (sigma_b = 0): chi = 1 at the fixed point."""
    if activation == "tanh":
        return 1.0
    if activation == "relu":
        return math.sqrt(2.0)
    if activation == "leaky_relu":
        return math.sqrt(2.0 / (1.0 + negative_slope ** 2))
    if activation == "linear":
        return 1.0
    return None


def crossing(sweep_rows: pd.DataFrame, activation: str, kind: str) -> float | None:
    """The sigma_w where log10 ratio crosses 0 (interpolated in log sigma); None if not."""
    rows = sweep_rows[(sweep_rows.activation == activation) & (sweep_rows.kind == kind)]
    rows = rows[np.isfinite(rows.log10_ratio)].sort_values("sigma_w")
    x, y = np.log(rows.sigma_w.to_numpy()), rows.log10_ratio.to_numpy()
    for i in range(len(y) - 1):
        if y[i] <= 0 < y[i + 1]:
            return float(np.exp(x[i] + (x[i + 1] - x[i]) * (-y[i]) / (y[i + 1] - y[i])))
    return None


# --- What the page says about these numbers --------------------------------------------
def formula_lines(formulas: pd.DataFrame) -> list[tuple[str, str]]:
    """(LaTeX, Markdown) per row of formula_table: the formula, and its sigma as the
    formula gives it and as Keras drew it."""
    lines = []
    for row in formulas.itertuples():
        name = row.initializer.replace("_", r"\_")
        lines.append((rf"\texttt{{{name}}}:\ {row.latex}",
                      f"σ = **{_number(row.theory_std)}** (formula) · Keras drew "
                      f"{_number(row.keras_std)} · for {row.derived_for}"))
    return lines


def grid_caption(table: pd.DataFrame, depth: int, width: int) -> str:
    """What the grid measured, and how long it took."""
    return (f"{len(table)} Keras networks, depth {depth}, width {width}, batch "
            f"{GRID_BATCH}, seed 0: measured in {table.attrs['seconds']:.1f} s. Each cell "
            f"is log10 of ‖dLoss/dh_1‖ / ‖dLoss/dh_L‖; 0 means the first layer receives "
            f"as much signal as the last. Hover for the exact value and the mean-field "
            f"theory.")


def edges_of_chaos(activations=SWEEP_ACTIVATIONS) -> dict[str, float | None]:
    """Theory's critical sigma_w for each activation of the sweep."""
    return {name: critical_sigma(name) for name in activations}


def goldilocks_text(rows: pd.DataFrame, activations=SWEEP_ACTIVATIONS) -> str:
    """Per activation: theory's edge of chaos and where the measured ratio crosses 1."""
    found = []
    for name, edge in edges_of_chaos(activations).items():
        measured = crossing(rows, name, "measured")
        found.append(f"**{name}**: theory's edge of chaos σ_w = {_number(edge)}; the "
                     f"measured ratio crosses 1 at σ_w ≈ "
                     f"{'not in range' if measured is None else _number(measured)}")
    return " · ".join(found)
