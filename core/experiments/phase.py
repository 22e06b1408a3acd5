"""The phase diagram: the signal ratio of real networks over (sigma_w2, sigma_b2), beside
mean-field theory's ordered and chaotic phases (Poole et al. 2016; Schoenholz et al. 2017).

Each grid point is one network of core.per_layer (W ~ N(0, sigma_w2 / n) by Keras'
VarianceScaling(scale=sigma_w2, fan_in), biases ~ N(0, sigma_b2)). The weights of every
point are one unit draw scaled by sqrt(sigma_w2) and sqrt(sigma_b2): exactly what
make_weights draws for that point (tests check), drawn once per grid. A row of points
runs as one batched pass (core.phase_pass), tested against core.per_layer's pass on
each point's ModelSpec (measured_point); the chosen point's profile is core.per_layer's.
Theory comes from core.theory (q*, chi_1, the depth scale, the critical line).
CLI: `python -m core phase ...` (core.cli).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import theory
from ..cache import memoize
from ..spec import ACTIVATIONS, ModelSpec, Spec, spec_field
from ..summary import format_number as _number

SIGMA_W2 = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0)
SIGMA_B2 = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
MAX_POINTS = 24
# Work budget of one grid: points x depth x width^2 x batch multiply-adds.
MAX_PHASE_WORK = 2 ** 34
DEPTH_SCALES = (5.0, 10.0, 20.0, 50.0)  # the theory's contours drawn on the page
COLUMNS = ["sigma_w2", "sigma_b2", "measured_log10_ratio", "theory_log10_ratio", "chi1",
           "q_star", "depth_scale", "critical_sigma_w2"]

_f = spec_field


@dataclass(frozen=True)
class PhaseSpec(Spec):
    """A grid of random networks W ~ N(0, sigma_w2 / n), b ~ N(0, sigma_b2)."""
    activation: str = _f("tanh", "activation of every hidden layer", choices=ACTIVATIONS,
                         kind=str)
    depth: int = _f(50, "hidden layers", low=2, high=200, kind=int)
    width: int = _f(256, "units per hidden layer", low=2, high=1024, kind=int)
    batch_size: int = _f(16, "examples per network", low=1, high=2048, kind=int)
    seed: int = _f(0, "random seed for the weights and the inputs", low=0,
                   high=2 ** 31 - 1, kind=int)
    sigma_w2: tuple = _f(SIGMA_W2, "weight variances sigma_w^2 (Var W = sigma_w^2 / n)",
                         low=0.0, high=100.0, kind=float, open_low=True, many=MAX_POINTS)
    sigma_b2: tuple = _f(SIGMA_B2, "bias variances sigma_b^2", low=0.0, high=100.0,
                         kind=float, many=MAX_POINTS)

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "sigma_w2", tuple(sorted(set(self.sigma_w2))))
        object.__setattr__(self, "sigma_b2", tuple(sorted(set(self.sigma_b2))))
        one = self.network(self.sigma_w2[0], self.sigma_b2[0])  # ModelSpec's budgets
        if self.points * one.work > MAX_PHASE_WORK:
            raise ValueError(
                f"{self.points} points x depth x width^2 x batch_size = "
                f"{self.points * one.work:.3g} multiply-adds is over the grid's budget of "
                f"{MAX_PHASE_WORK:.3g}: use fewer points, or reduce depth, width or "
                f"batch_size")

    @property
    def points(self) -> int:
        return len(self.sigma_w2) * len(self.sigma_b2)

    def network(self, sigma_w2: float, sigma_b2: float) -> ModelSpec:
        """The ModelSpec of one grid point."""
        return ModelSpec(depth=self.depth, width=self.width, batch_size=self.batch_size,
                         seed=self.seed, activation=self.activation,
                         init="variance_scaling", scale=float(sigma_w2),
                         bias_stddev=math.sqrt(float(sigma_b2)))



@memoize(entries=1024)
def theory_row(activation: str, depth: int, sigma_w2: float, sigma_b2: float) -> dict:
    """Mean-field theory of one grid point: q*, chi_1, depth scale, critical sigma_w2 and
    the log10 ratio of a depth-`depth` network fed N(0, 1) inputs."""
    q1 = sigma_w2 + sigma_b2  # the first layer's pre-activation variance (input_std 1)
    q = theory.q_star(activation, sigma_w2, sigma_b2, q0=q1)
    chi = theory.chi1(activation, sigma_w2, sigma_b2, q=q)
    network = ModelSpec(depth=depth, width=2, batch_size=1, activation=activation,
                        init="variance_scaling", scale=sigma_w2,
                        bias_stddev=math.sqrt(sigma_b2))
    return dict(theory_log10_ratio=theory.log10_ratio(theory.mean_field(network)),
                chi1=chi, q_star=q,
                depth_scale=theory.depth_scale(chi),
                critical_sigma_w2=critical_sigma_w2(activation, sigma_b2))


@memoize(entries=256)
def critical_sigma_w2(activation: str, sigma_b2: float) -> float:
    return theory.critical_sigma_w2(activation, sigma_b2)


@memoize(entries=64)
def _unit_draw(depth: int, width: int, batch_size: int, seed: int):
    """Weights and data of sigma_w2 = 1, sigma_b2 = 1: every point's draw, unscaled."""
    from ..weights import make_data, make_weights
    spec = ModelSpec(depth=depth, width=width, batch_size=batch_size, seed=seed,
                     init="variance_scaling", scale=1.0, bias_stddev=1.0)
    return make_weights(spec), make_data(spec)


def point_weights(network: ModelSpec):
    """(make_weights(network), make_data(network)) of a grid point's network, from the
    one unit draw of its depth, width, batch and seed."""
    (first, stack, biases, readout), data = _unit_draw(
        network.depth, network.width, network.batch_size, network.seed)
    w = np.asarray(math.sqrt(network.scale), dtype=first.dtype)
    b = np.asarray(network.bias_stddev, dtype=first.dtype)
    return (first * w, stack * w, biases * b, readout), data


def _log10(ratio: float) -> float:
    return math.log10(ratio) if 0 < ratio < math.inf else (
        math.inf if ratio == math.inf else (-math.inf if ratio == 0 else math.nan))


@memoize(entries=4096)
def measured_point(network: ModelSpec) -> dict:
    """The signal ratio ||dLoss/dh_1|| / ||dLoss/dh_L|| of one grid point's network
    (spec.network(...)) by core.per_layer's traced pass: the reference the grid's
    batched pass (core.phase_pass) is tested against."""
    from ..per_layer import run_step
    from ..summary import gradient_ratio
    weights, data = point_weights(network)
    signal = run_step(network, weights, data)[1].numpy()
    ratio = gradient_ratio(float(signal[0]), float(signal[-1]))
    return dict(measured_ratio=ratio, measured_log10_ratio=_log10(ratio))


CHUNK_FLOATS = 2 ** 23  # points x depth x batch x width per batched pass (memory)


@memoize(entries=256)
def measured_row(spec: PhaseSpec, sigma_b2: float) -> list:
    """The signal ratios of every sigma_w2 at one sigma_b2: one batched pass
    (core.phase_pass) per chunk of points, each point's network as spec.network."""
    from ..phase_pass import signal_ends
    from ..summary import gradient_ratio
    weights, data = _unit_draw(spec.depth, spec.width, spec.batch_size, spec.seed)
    chunk = max(1, CHUNK_FLOATS // (spec.depth * spec.batch_size * spec.width))
    rows = []
    for start in range(0, len(spec.sigma_w2), chunk):
        sigma_w2 = spec.sigma_w2[start:start + chunk]
        first, last = signal_ends(spec.activation, weights, data, sigma_w2,
                                  [sigma_b2] * len(sigma_w2))
        for one, top in zip(first, last):
            ratio = gradient_ratio(float(one), float(top))
            rows.append(dict(measured_ratio=ratio, measured_log10_ratio=_log10(ratio)))
    return rows


def is_cached(spec: PhaseSpec) -> bool:
    return all(measured_row.contains(spec, b) for b in spec.sigma_b2)


def phase_grid(spec: PhaseSpec, on_point=None) -> pd.DataFrame:
    """One row per (sigma_w2, sigma_b2): COLUMNS, plus measured_ratio and activation.
    `on_point(done, total)` is called after each row of points (progress). Every row is
    cached by core.cache, so a grid seen before answers at once."""
    start, rows = time.perf_counter(), []
    for sigma_b2 in spec.sigma_b2:
        measured = measured_row(spec, sigma_b2)
        for sigma_w2, point in zip(spec.sigma_w2, measured):
            row = dict(sigma_w2=sigma_w2, sigma_b2=sigma_b2, **point)
            row.update(theory_row(spec.activation, spec.depth, sigma_w2, sigma_b2))
            rows.append(row)
        if on_point is not None:
            on_point(len(rows), spec.points)
    table = pd.DataFrame(rows)[COLUMNS + ["measured_ratio"]]
    table.insert(0, "activation", spec.activation)
    table.attrs["seconds"] = time.perf_counter() - start
    return table


@memoize(entries=16)
def theory_lines(activation: str, sigma_b2_max: float,
                 depth_scales=DEPTH_SCALES) -> pd.DataFrame:
    """The critical line (chi_1 = 1) and the depth-scale contours xi = 1/|ln chi_1| on
    both sides, as (line, side, depth_scale, sigma_w2, sigma_b2) rows, sigma_b2 in
    [0, sigma_b2_max] (theory)."""
    frames = []
    targets = [("critical line χ₁ = 1", "critical", math.inf, 1.0)]
    for xi in depth_scales:
        targets += [(f"ξ = {xi:g} layers (ordered)", "ordered", xi, math.exp(-1 / xi)),
                    (f"ξ = {xi:g} layers (chaotic)", "chaotic", xi, math.exp(1 / xi))]
    q = np.geomspace(1e-6, 1e3, 500)
    for name, side, xi, chi in targets:
        line = theory.chi_line(activation, chi, q)
        line = line[line["sigma_b2"] <= sigma_b2_max * 1.0001]
        frames.append(line.assign(line=name, side=side, depth_scale=xi))
    return pd.concat(frames, ignore_index=True)[
        ["line", "side", "depth_scale", "chi1", "q_star", "sigma_w2", "sigma_b2"]]


def phase_caption(table: pd.DataFrame, spec: PhaseSpec) -> str:
    """What the grid measured, and how long it took."""
    return (f"{len(table)} Keras networks ({spec.activation}), depth {spec.depth}, width "
            f"{spec.width}, batch {spec.batch_size}, seed {spec.seed}: measured in "
            f"{table.attrs.get('seconds', 0.0):.1f} s. Each cell is log10 of "
            f"‖dLoss/dh_1‖ / ‖dLoss/dh_L‖ (0: the first layer gets as much signal as "
            f"the last). Lines are theory: the critical line χ₁ = 1 and the depth scale "
            f"ξ = 1/|ln χ₁|.")


def point_text(row: dict) -> str:
    """One grid point's numbers in a sentence."""
    phase = ("critical" if math.isclose(row["chi1"], 1.0, abs_tol=1e-3) else
             "ordered (gradients vanish)" if row["chi1"] < 1 else
             "chaotic (gradients explode)")
    return (f"σ_w² = {_number(row['sigma_w2'])}, σ_b² = {_number(row['sigma_b2'])}: "
            f"theory puts it in the **{phase}** phase, χ₁ = {_number(row['chi1'])}, "
            f"q* = {_number(row['q_star'])}, depth scale ξ = "
            f"{_number(row['depth_scale'])} layers. log10 ratio measured "
            f"{_number(row['measured_log10_ratio'])}, theory "
            f"{_number(row['theory_log10_ratio'])}.")


# --- The Jacobian spectrum: dynamical isometry -------------------------------------------
# The page's grid and its choices of a point (pages/phase.py; core.slides computes them).
PAGE_SIGMA_W2 = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)
PAGE_SIGMA_B2 = (0.0, 0.05, 0.1, 0.2, 0.5, 1.0)
ISOMETRY_ACTIVATIONS = ("linear", "tanh", "relu")
ISOMETRY_DEPTHS = (2, 4, 8, 16, 32)
ISOMETRY_WIDTH = 256
TANH_BIAS_VAR = 1e-5  # tanh near the critical line with a small q* (Pennington et al.)
# log10 of the singular value, 0.1 wide, one bin centred on s = 1 (isometry)
HISTOGRAM_EDGES = np.linspace(-3.05, 1.05, 42)


def isometry_setting(activation: str) -> dict:
    """sigma_w2, sigma_b2 and input_std of the page's network for `activation`: on the
    critical line (linear and ReLU: sigma_w2 = 1 and 2; tanh: sigma_b2 = 1e-5 and its
    critical sigma_w2), the input at the fixed point q* so every layer sits there."""
    if activation == "linear":
        return dict(sigma_w2=1.0, sigma_b2=0.0, input_std=1.0)
    if activation == "relu":
        return dict(sigma_w2=2.0, sigma_b2=0.0, input_std=1.0)
    sigma_w2 = theory.critical_sigma_w2(activation, TANH_BIAS_VAR)
    q = theory.q_star(activation, sigma_w2, TANH_BIAS_VAR)
    return dict(sigma_w2=sigma_w2, sigma_b2=TANH_BIAS_VAR,
                input_std=math.sqrt(max(q - TANH_BIAS_VAR, 1e-12) / sigma_w2))


def isometry_spec(activation: str, weights: str, depth: int,
                  width: int = ISOMETRY_WIDTH, seed: int = 0) -> ModelSpec:
    """The network: `weights` 'orthogonal' (gain sqrt(sigma_w2)) or 'Gaussian'
    (N(0, sigma_w2 / n))."""
    setting = isometry_setting(activation)
    init = dict(init="orthogonal", gain=math.sqrt(setting["sigma_w2"])) \
        if weights == "orthogonal" else dict(init="variance_scaling",
                                             scale=setting["sigma_w2"])
    return ModelSpec(depth=depth, width=width, batch_size=1, seed=seed,
                     activation=activation, input_std=setting["input_std"],
                     bias_stddev=math.sqrt(setting["sigma_b2"]),
                     no_bias=setting["sigma_b2"] == 0, **init)


@memoize(entries=16)
def isometry(activation: str, depths=ISOMETRY_DEPTHS, width: int = ISOMETRY_WIDTH,
             seed: int = 0) -> dict:
    """Singular values of J = dh_L/dx for orthogonal and Gaussian weights at each depth.

    Keys: 'values' (weights, depth, rank, singular_value), 'histogram' (weights, depth,
    log10 bin, fraction), 'moments' (weights, depth, measured and theory mean and
    variance of lambda = s^2)."""
    from ..jacobian import spectrum
    values, histograms, moments = [], [], []
    for weights in ("orthogonal", "Gaussian"):
        for depth in depths:
            table = spectrum(isometry_spec(activation, weights, depth, width, seed))
            values.append(table[["rank", "singular_value"]].assign(weights=weights,
                                                                    depth=depth))
            logs = np.log10(np.clip(table["singular_value"], 10 ** HISTOGRAM_EDGES[0],
                                    10 ** HISTOGRAM_EDGES[-1] * 0.999))
            counts, _ = np.histogram(logs, HISTOGRAM_EDGES)
            histograms.append(pd.DataFrame({
                "weights": weights, "depth": depth, "bin_start": HISTOGRAM_EDGES[:-1],
                "bin_end": HISTOGRAM_EDGES[1:], "fraction": counts / len(table)}))
            first = table.iloc[0]
            moments.append(dict(weights=weights, depth=depth,
                                measured_mean_lambda=first.measured_mean_lambda,
                                theory_mean_lambda=first.theory_mean_lambda,
                                measured_var_lambda=first.measured_var_lambda,
                                theory_var_lambda=first.theory_var_lambda,
                                largest=float(table.singular_value.max()),
                                smallest=float(table.singular_value.min())))
    return dict(values=pd.concat(values, ignore_index=True),
                histogram=pd.concat(histograms, ignore_index=True),
                moments=pd.DataFrame(moments))


def isometry_text(activation: str, moments: pd.DataFrame) -> str:
    """What the spectra show, in a sentence, with the deepest networks' numbers."""
    deepest = moments[moments.depth == moments.depth.max()].set_index("weights")
    setting = isometry_setting(activation)
    parts = [f"**{weights}**: Var λ = {_number(row.measured_var_lambda)} measured, "
             f"{_number(row.theory_var_lambda)} theory; s from {_number(row.smallest)} "
             f"to {_number(row.largest)}" for weights, row in deepest.iterrows()]
    return (f"{activation} at σ_w² = {_number(setting['sigma_w2'])}, σ_b² = "
            f"{_number(setting['sigma_b2'])}, depth {int(moments.depth.max())}: "
            + " · ".join(parts) + ".")
