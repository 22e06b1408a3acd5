"""Initialization experiments: formulas, side-by-side runs, the init x activation grid,
the sigma_w sweep (Goldilocks zone), and Glorot & Bengio's activation histograms.

Every measurement goes through core.per_layer (one traced Keras/TensorFlow pass per
network, LRU-cached); theory comes from core.theory and is returned in its own columns.
CLI: `python -m core grid ...` and `python -m core sweep ...`.
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd

from . import theory
from .spec import ACTIVATIONS, INITS, ModelSpec

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


def formula_table(n_in: int, n_out: int, negative_slope: float = 0.01,
                  seed: int = 0) -> pd.DataFrame:
    """Each initializer: theory std from its formula, and the std of a matrix Keras drew."""
    from .tf_setup import keras
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


def with_theory(spec: ModelSpec, table: pd.DataFrame) -> pd.DataFrame:
    """Add theory columns (mean-field) to a profile table; nan where theory is absent."""
    table = table.copy()
    if theory.has_theory(spec):
        mf = theory.mean_field(spec)
        table["theory_activation_std"] = mf["activation_std"].to_numpy()
        table["theory_signal"] = theory.predicted_signal(
            mf, float(table["signal_grad_norm"].iloc[-1]))
        table["theory_chi"] = mf["chi"].to_numpy()
    else:
        for column in ("theory_activation_std", "theory_signal", "theory_chi"):
            table[column] = np.nan
    signal = table["signal_grad_norm"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Per-layer gain of the backward pass: ||g_{l-1}|| / ||g_l||, stored at layer l.
        table["measured_gain"] = np.concatenate([[np.nan], signal[:-1] / signal[1:]])
    table["theory_gain"] = np.sqrt(table["theory_chi"])
    return table


SEEDS = 3  # networks averaged for a ratio whose single-seed value is noisy
FLAT_WITHIN = 2.0  # a weight-gradient ratio in [1/2, 2] counts as flat


def ratio_over_seeds(tables, column: str = "weight_grad_norm") -> dict:
    """Layer 1 / layer L of `column` in each table (one per seed) and their median.

    Per-layer log-norms of a finite-width network fluctuate by about sqrt(depth / width)
    from seed to seed, so one network's ratio can be off by a factor of 2 or more; the
    median of a few seeds is the figure to quote. Keys: median, per_seed (list), low,
    high, flat (median within [1/FLAT_WITHIN, FLAT_WITHIN]).
    """
    from .summary import gradient_ratio
    per_seed = [gradient_ratio(float(t[column].iloc[0]), float(t[column].iloc[-1]))
                for t in tables]
    values = np.asarray(per_seed, dtype=np.float64)
    median = float(np.median(values)) if not np.isnan(values).any() else math.nan
    return dict(median=median, per_seed=per_seed, low=float(np.min(values)),
                high=float(np.max(values)),
                flat=bool(1 / FLAT_WITHIN <= median <= FLAT_WITHIN))


def compare(base: ModelSpec, inits) -> pd.DataFrame:
    """Profiles of `base` under each initializer, stacked with an `init` column."""
    from .per_layer import profile
    frames = []
    for init in inits:
        spec = base.replace(init=init)
        frame = with_theory(spec, profile(spec))
        frame.insert(0, "init", init)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _cell_signals(spec: ModelSpec, weights, data) -> tuple:
    """(signal_grad_norm, weight_grad_norm, last activation std) of one grid cell.

    The same traced Keras/TensorFlow step as core.per_layer.compute_profile, fed with
    weights drawn once per initializer: make_weights does not depend on the activation,
    so the six cells of a row share one draw (drawing is ~half of a cell's time).
    Tests check the result equals core.per_layer on the same spec.
    """
    from .per_layer import run_step
    stats, signal, weight_grad, _, _, _ = run_step(spec, weights, data)
    return signal.numpy(), weight_grad.numpy(), float(stats.numpy()[-1, 1])


def grid(depth: int = 50, width: int = 128, batch_size: int = GRID_BATCH, seed: int = 0,
         inits=GRID_INITS, activations=GRID_ACTIVATIONS) -> pd.DataFrame:
    """Signal ratio layer 1 / layer L for every (init, activation), measured in Keras."""
    from .summary import gradient_ratio, verdict_of
    from .weights import make_data, make_weights
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


def sweep(depth: int = 30, width: int = 128, batch_size: int = 64, seed: int = 0,
          activations=SWEEP_ACTIVATIONS, sigmas=SWEEP_SIGMAS,
          theory_points: int = 121) -> pd.DataFrame:
    """Signal ratio against sigma_w (W ~ N(0, sigma_w^2 / n)), measured and theory rows.

    Columns: activation, sigma_w, kind ('measured' or 'theory'), ratio, log10_ratio.
    """
    from .per_layer import profile
    from .summary import summarize
    rows = []
    for activation in activations:
        for sigma in sigmas:
            spec = _spec(activation, "variance_scaling", depth, width, batch_size, seed,
                         scale=float(sigma) ** 2)
            result = summarize(profile(spec))
            rows.append(dict(activation=activation, sigma_w=float(sigma), kind="measured",
                             ratio=result["ratio"], log10_ratio=result["log10_ratio"]))
        for sigma in np.geomspace(min(sigmas), max(sigmas), theory_points):
            spec = _spec(activation, "variance_scaling", depth, width, 1, seed,
                         scale=float(sigma) ** 2)
            log_ratio = theory.log10_ratio(theory.mean_field(spec))
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


# Glorot & Bengio (2010), section 4: their three initializations, for width n.
def glorot_bengio_specs(activation: str, depth: int = 8, width: int = 100,
                        batch_size: int = 256, seed: int = 0) -> dict[str, ModelSpec]:
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
    from .keras_model import build_keras_model
    from .weights import make_data, make_weights
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


def glorot_bengio(activation: str, depth: int = 8, width: int = 100, seed: int = 0):
    """(histograms, per-layer profiles), each stacked with an `init` column."""
    from .per_layer import profile
    histograms, profiles = [], []
    for label, spec in glorot_bengio_specs(activation, depth, width, seed=seed).items():
        histograms.append(activation_histograms(spec).assign(init=label))
        profiles.append(with_theory(spec, profile(spec)).assign(init=label))
    return pd.concat(histograms, ignore_index=True), pd.concat(profiles, ignore_index=True)


# --- CLI -------------------------------------------------------------------------------
def _csv_choices(text: str, allowed, flag: str):
    from .cli import UsageError
    items = tuple(item.strip() for item in text.split(",") if item.strip())
    bad = [item for item in items if item not in allowed]
    if bad or not items:
        raise UsageError(f"{flag} must be a comma-separated list of {', '.join(allowed)} "
                         f"(got {text!r})")
    return items


def _common(parser: argparse.ArgumentParser, depth: int, batch_size: int) -> None:
    from .cli import add_format_argument, add_spec_arguments
    add_spec_arguments(parser, fields=("depth", "width", "seed"),
                       base=ModelSpec(depth=depth))
    parser.add_argument("--batch-size", dest="batch_size", default=None,
                        metavar="BATCH_SIZE",
                        help=f"examples per network (default {batch_size})")
    add_format_argument(parser)


def _grid_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser, 50, GRID_BATCH)
    parser.add_argument("--inits", default=",".join(GRID_INITS),
                        help="comma-separated initializers (default: %(default)s)")
    parser.add_argument("--activations", default=",".join(GRID_ACTIVATIONS),
                        help="comma-separated activations (default: %(default)s)")


def _sweep_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser, 30, 64)
    parser.add_argument("--activations", default=",".join(SWEEP_ACTIVATIONS),
                        help="comma-separated activations (default: %(default)s)")
    parser.add_argument("--sigmas", default=",".join(f"{s:g}" for s in SWEEP_SIGMAS),
                        help="comma-separated sigma_w values, each in (0, 10]")


def _checked(args, default_depth: int, default_batch: int) -> dict:
    from .cli import UsageError, spec_from_args
    spec = spec_from_args(args, fields=("depth", "width", "seed"),
                          base=ModelSpec(depth=default_depth))
    batch = default_batch
    if args.batch_size is not None:
        try:
            batch = ModelSpec(batch_size=float(args.batch_size)).batch_size
        except ValueError:
            raise UsageError(f"--batch-size must be an integer from 1 to 2048 "
                             f"(got {args.batch_size!r})") from None
    try:
        ModelSpec(depth=spec.depth, width=spec.width, batch_size=batch)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return dict(depth=spec.depth, width=spec.width, seed=spec.seed, batch_size=batch)


def _run_grid(args) -> pd.DataFrame:
    options = _checked(args, 50, GRID_BATCH)  # all checks before TensorFlow loads
    inits = _csv_choices(args.inits, INITS, "--inits")
    activations = _csv_choices(args.activations, ACTIVATIONS, "--activations")
    return grid(inits=inits, activations=activations, **options)


def _run_sweep(args) -> pd.DataFrame:
    from .cli import UsageError
    options = _checked(args, 30, 64)
    activations = _csv_choices(args.activations, ACTIVATIONS, "--activations")
    try:
        sigmas = tuple(float(s) for s in args.sigmas.split(",") if s.strip())
    except ValueError:
        sigmas = ()
    if not sigmas or not all(0 < s <= 10 and math.isfinite(s) for s in sigmas):
        raise UsageError(f"--sigmas must be a comma-separated list of numbers in (0, 10] "
                         f"(got {args.sigmas!r})")
    return sweep(activations=activations, sigmas=sigmas, **options)


CLI_ARGUMENTS = {"grid": _grid_arguments, "sweep": _sweep_arguments}
CLI_RUN = {"grid": _run_grid, "sweep": _run_sweep}
# core.cli evaluates these fallbacks eagerly (dict.get's default), so they must exist.
add_arguments, run = _grid_arguments, _run_grid


def glorot_bengio_summary(profiles: pd.DataFrame) -> pd.DataFrame:
    """One row per initialization: first/last layer statistics and gradient ratios."""
    rows = []
    for name, table in profiles.groupby("init", sort=False):
        first, last = table.iloc[0], table.iloc[-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            rows.append({
                # the ratios first: the page's notes cite them, and a narrow table
                # must not hide them
                "initialization": name,
                "signal ratio 1 / L": first["signal_grad_norm"] / last["signal_grad_norm"],
                "weight-gradient ratio 1 / L": first["weight_grad_norm"]
                / last["weight_grad_norm"],
                "saturated (mean over layers)": table["saturated_fraction"].mean(),
                "pre-activation std, layer 1": first["preactivation_std"],
                f"pre-activation std, layer {int(last['layer'])}": last["preactivation_std"],
                "activation std, layer 1": first["activation_std"],
                f"activation std, layer {int(last['layer'])}": last["activation_std"],
                f"activation mean, layer {int(last['layer'])}": last["activation_mean"]})
    return pd.DataFrame(rows)
