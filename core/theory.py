"""Mean-field theory of signal propagation (Poole et al. 2016; Schoenholz et al. 2017).

For h_l = phi(z_l), z_l = W_l h_{l-1} + b_l with i.i.d. zero-mean weights:
  forward   q_l = n_in Var(W_l) E[phi(z)^2 | z ~ N(0, q_{l-1})] + sigma_b^2
  backward  ||dLoss/dh_{l-1}||^2 ~ chi_l ||dLoss/dh_l||^2,
            chi_l = n Var(W_l) E[phi'(z_l)^2]   (square hidden layers, n = width)
The phase diagram: the length map's fixed point q*, chi_1 at q*, the depth scale
xi = 1/|ln chi_1| and the lines chi_1 = const over (sigma_w2, sigma_b2).
Expectations are Gauss-Hermite integrals over the pre-activation distribution. These are
theory (infinite width); pages draw them beside what Keras measured, labelled as such.
This module needs only numpy and scipy.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import erf

from .spec import VARIANCE_SCALING, ModelSpec

SELU_LAMBDA, SELU_ALPHA = 1.0507009873554805, 1.6732632423543772
# Probabilists' Gauss-Hermite nodes; an even count keeps z = 0 (ReLU's kink) off the grid.
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(160)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def phi(name: str, z, negative_slope: float = 0.01):
    """The activation in numpy (same formulas as keras.activations; tests compare)."""
    z = np.asarray(z, dtype=np.float64)
    if name == "linear":
        return z
    if name == "sigmoid":
        return _sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, negative_slope * z)
    if name == "elu":
        return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))
    if name == "selu":
        return SELU_LAMBDA * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))
    if name == "gelu":
        return 0.5 * z * (1.0 + erf(z / math.sqrt(2.0)))
    if name == "swish":
        return z * _sigmoid(z)
    if name == "softsign":
        return z / (1.0 + np.abs(z))
    raise ValueError(f"activation must be one of the app's activations (got {name!r})")


def slope(name: str, z, negative_slope: float = 0.01):
    """phi'(z) in numpy."""
    z = np.asarray(z, dtype=np.float64)
    if name == "linear":
        return np.ones_like(z)
    if name == "sigmoid":
        s = _sigmoid(z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(np.float64)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, negative_slope)
    if name == "elu":
        return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0)))
    if name == "selu":
        return SELU_LAMBDA * np.where(z > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(z, 0.0)))
    if name == "gelu":
        return 0.5 * (1.0 + erf(z / math.sqrt(2.0))) + z * np.exp(-0.5 * z * z) / math.sqrt(
            2.0 * math.pi)
    if name == "swish":
        s = _sigmoid(z)
        return s + z * s * (1.0 - s)
    if name == "softsign":
        return 1.0 / (1.0 + np.abs(z)) ** 2
    raise ValueError(f"activation must be one of the app's activations (got {name!r})")


def gaussian_mean(fn, q: float) -> float:
    """E[fn(z)] for z ~ N(0, q), by Gauss-Hermite quadrature."""
    return float(np.sum(_WEIGHTS * fn(math.sqrt(max(q, 0.0)) * _NODES)))


def weight_variance(spec: ModelSpec, n_in: int, n_out: int) -> float:
    """Var(W) of one (n_in, n_out) kernel under spec.init, as Keras draws it.

    Keras' truncated normals are rescaled so the variance after truncation is scale/n.
    Orthogonal and identity are not i.i.d.; W W^T = gain^2 I makes them act like
    Var(W) = gain^2 / max(n_in, n_out) in these formulas (exact for linear nets).
    """
    init = spec.init
    if init == "random_normal":
        return spec.stddev ** 2
    if init == "random_uniform":
        return spec.limit ** 2 / 3.0
    if init in ("orthogonal", "identity"):
        return spec.gain ** 2 / max(n_in, n_out)
    if init == "variance_scaling":
        return spec.scale / n_in
    scale, mode, _ = VARIANCE_SCALING[init]
    fan = {"fan_in": n_in, "fan_out": n_out, "fan_avg": (n_in + n_out) / 2.0}[mode]
    return scale / fan


def has_theory(spec: ModelSpec) -> bool:
    """The plain mean-field recursion covers nets without batch norm or skips."""
    return not (spec.batch_norm or spec.residual)


def _gaussian_means(fn, q: np.ndarray) -> np.ndarray:
    """gaussian_mean for every entry of `q` at once: E[fn(z)], z ~ N(0, q_i)."""
    root = np.sqrt(np.maximum(q, 0.0))
    return np.sum(_WEIGHTS * fn(root[:, None] * _NODES), axis=1)


def _recursion(specs) -> list[tuple]:
    """The mean-field recursion for several specs at once, vectorised over the specs.

    They must share depth, widths and activation (a sweep over weight or bias scales).
    One tuple per hidden layer: arrays over the specs of (q, activation_std,
    activation_mean, chi, sigma_w2)."""
    first = specs[0]
    shape = (first.depth, first.n_in, first.width, first.activation, first.negative_slope)
    if any((s.depth, s.n_in, s.width, s.activation, s.negative_slope) != shape
           for s in specs):
        raise ValueError("the specs of one recursion must share depth, widths and activation")
    act, a, width = first.activation, first.negative_slope, first.width
    bias_var = np.array([0.0 if s.no_bias else s.bias_stddev ** 2 for s in specs])
    second_moment = np.array([s.input_std ** 2 for s in specs], dtype=np.float64)
    var_first = np.array([weight_variance(s, s.n_in, width) for s in specs])
    var_rest = np.array([weight_variance(s, width, width) for s in specs])
    layers = []
    for layer in range(1, first.depth + 1):
        n_in, var_w = (first.n_in, var_first) if layer == 1 else (width, var_rest)
        q = n_in * var_w * second_moment + bias_var
        mean = _gaussian_means(lambda z: phi(act, z, a), q)
        second_moment = _gaussian_means(lambda z: phi(act, z, a) ** 2, q)
        slope2 = _gaussian_means(lambda z: slope(act, z, a) ** 2, q)
        chi = width * var_w * slope2 if layer > 1 else np.full(len(specs), math.nan)
        layers.append((q, np.sqrt(np.maximum(second_moment - mean ** 2, 0.0)), mean, chi,
                       n_in * var_w))
    return layers


def mean_field(spec: ModelSpec) -> pd.DataFrame:
    """Theory per hidden layer: q (Var z_l), activation_std, chi, sigma_w2 = n Var(W).

    chi of layer 1 is nan: the signal is only measured for hidden layers 1..L, so the
    backward steps are through layers 2..L.
    """
    rows = [(layer, *(float(column[0]) for column in columns))
            for layer, columns in enumerate(_recursion([spec]), start=1)]
    return pd.DataFrame(rows, columns=["layer", "preactivation_var", "activation_std",
                                       "activation_mean", "chi", "sigma_w2"])


def log10_ratios(specs) -> np.ndarray:
    """Theory's log10 signal ratio layer 1 / layer L (log10_ratio of mean_field) for
    many specs that share depth, widths and activation, computed together."""
    specs = list(specs)
    if not specs:
        return np.zeros(0)
    chi = np.array([columns[3] for columns in _recursion(specs)[1:]]).reshape(-1, len(specs))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = 0.5 * np.sum(np.log10(np.where(chi > 0, chi, 1.0)), axis=0)
    return np.where(np.any(chi <= 0, axis=0), -math.inf, ratios)


def predicted_signal(theory: pd.DataFrame, top_signal: float) -> np.ndarray:
    """||dLoss/dh_l|| predicted from the measured top-layer value and the chi's."""
    chi = theory["chi"].to_numpy(dtype=np.float64)
    log_gain = 0.5 * np.log(np.where(chi > 0, chi, np.nan))  # per step l -> l-1
    # log g_l = log g_L + sum_{k=l+1}^{L} log sqrt(chi_k)
    tail = np.concatenate([np.cumsum(log_gain[:0:-1])[::-1], [0.0]])
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        return top_signal * np.exp(tail)


def log10_ratio(theory: pd.DataFrame) -> float:
    """Theory's log10 of the signal ratio layer 1 / layer L."""
    chi = theory["chi"].to_numpy(dtype=np.float64)[1:]
    if len(chi) == 0:
        return 0.0
    if np.any(chi <= 0):
        return -math.inf
    return float(0.5 * np.sum(np.log10(chi)))


def with_theory(spec: ModelSpec, table: pd.DataFrame) -> pd.DataFrame:
    """Add theory columns (mean-field) to a profile table; nan where theory is absent.

    Columns added: theory_activation_std, theory_signal (from the measured top-layer
    signal), theory_chi, measured_gain (||g_{l-1}|| / ||g_l||, at layer l) and
    theory_gain (sqrt chi)."""
    table = table.copy()
    if has_theory(spec):
        mf = mean_field(spec)
        table["theory_activation_std"] = mf["activation_std"].to_numpy()
        table["theory_signal"] = predicted_signal(
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


# --- The phase diagram (Poole et al. 2016; Schoenholz et al. 2017) ---------------------
# For z_l = W h_{l-1} + b, Var(W) = sigma_w2 / n, Var(b) = sigma_b2: the length map
# q -> sigma_w2 E[phi(sqrt(q) z)^2] + sigma_b2, its fixed point q*, and the backward
# factor chi_1 = sigma_w2 E[phi'(sqrt(q*) z)^2] that splits ordered (< 1) from chaotic.
POSITIVELY_HOMOGENEOUS = ("linear", "relu", "leaky_relu")  # E[phi(sqrt(q) z)^2] = c q
Q_GRID = np.geomspace(1e-12, 1e8, 241)  # where the length map's fixed points are sought


def _means(fn, q) -> np.ndarray:
    """E[fn(z)] for z ~ N(0, q), for every q of an array at once (Gauss-Hermite)."""
    q = np.sqrt(np.maximum(np.asarray(q, dtype=np.float64), 0.0))
    return fn(q[..., None] * _NODES) @ _WEIGHTS


def length_map(activation: str, sigma_w2: float, sigma_b2: float, q,
               negative_slope: float = 0.01):
    """The next layer's pre-activation variance from this layer's q (theory)."""
    return sigma_w2 * _means(lambda z: phi(activation, z, negative_slope) ** 2, q) \
        + sigma_b2


def q_star(activation: str, sigma_w2: float, sigma_b2: float, q0: float = 1.0,
           negative_slope: float = 0.01) -> float:
    """The fixed point of the length map that the iteration reaches from q0.

    The map is increasing, so from q0 it climbs to the nearest fixed point above (if
    it starts below the diagonal's crossing) or falls to the nearest below; inf when
    it grows without bound, 0 when it shrinks to 0 (tanh with sigma_b2 = 0 and
    sigma_w2 <= 1: at sigma_w2 = 1 only like 1/(2l), a power law)."""
    from scipy.optimize import brentq
    if activation in POSITIVELY_HOMOGENEOUS:  # the map is c sigma_w2 q + sigma_b2
        slope_2 = sigma_w2 * gaussian_mean(lambda z: phi(activation, z, negative_slope)
                                           ** 2, 1.0)
        if math.isclose(slope_2, 1.0, rel_tol=1e-12):
            return q0 if sigma_b2 == 0 else math.inf
        return sigma_b2 / (1.0 - slope_2) if slope_2 < 1 else math.inf
    gap = length_map(activation, sigma_w2, sigma_b2, Q_GRID, negative_slope) - Q_GRID
    start = int(np.searchsorted(Q_GRID, q0))
    # Stable fixed points: gap changes sign from + to - between grid points i, i+1.
    stable = np.flatnonzero((gap[:-1] > 0) & (gap[1:] <= 0))
    rising = q0 <= Q_GRID[0] or gap[min(start, len(gap) - 1)] > 0
    candidates = stable[stable >= start - 1] if rising else stable[stable < start][::-1]
    if candidates.size == 0:
        return math.inf if rising else 0.0
    i = int(candidates[0])
    return float(brentq(lambda q: float(length_map(activation, sigma_w2, sigma_b2, q,
                                                   negative_slope)) - q,
                        Q_GRID[i], Q_GRID[i + 1], xtol=1e-15, rtol=1e-13))


def chi1(activation: str, sigma_w2: float, sigma_b2: float, q0: float = 1.0,
         negative_slope: float = 0.01, q: float | None = None) -> float:
    """sigma_w2 E[phi'(sqrt(q*) z)^2]: the backward factor per layer at the fixed point
    (nan when q* is infinite and the slope depends on q). `q`: q* if already known."""
    if activation in POSITIVELY_HOMOGENEOUS:
        q = 1.0  # the slope of a positively homogeneous activation does not depend on q
    else:
        q = q_star(activation, sigma_w2, sigma_b2, q0, negative_slope) if q is None else q
        if math.isinf(q):
            return math.nan
    return sigma_w2 * gaussian_mean(lambda z: slope(activation, z, negative_slope) ** 2, q)


def depth_scale(chi: float) -> float:
    """xi = 1 / |ln chi_1|: the layers over which ||dLoss/dh||^2 shrinks (chi_1 < 1,
    where xi = -1/ln chi_1) or grows (chi_1 > 1) by a factor e; inf on the critical line."""
    if not chi > 0:
        return 0.0 if chi == 0 else math.nan
    return math.inf if chi == 1 else 1.0 / abs(math.log(chi))


def critical_sigma_w2(activation: str, sigma_b2: float, chi: float = 1.0,
                      negative_slope: float = 0.01) -> float:
    """The sigma_w2 where chi_1 = `chi` (1: the critical line) for this sigma_b2; nan if
    the line never reaches it. Solved along chi_line (for the q* whose line point has
    this sigma_b2); at sigma_b2 = 0 the line starts from q* -> 0, sigma_w2 =
    chi / phi'(0)^2 (tanh: the critical line passes through sigma_w2 = 1)."""
    from scipy.optimize import brentq
    if activation in POSITIVELY_HOMOGENEOUS:  # chi_1 = sigma_w2 E[phi'^2], any q
        return chi / gaussian_mean(lambda z: slope(activation, z, negative_slope) ** 2, 1.0)

    def line(q):
        slope2 = _means(lambda z: slope(activation, z, negative_slope) ** 2, q)
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma_w2 = chi / slope2
            return sigma_w2, q - sigma_w2 * _means(
                lambda z: phi(activation, z, negative_slope) ** 2, q)
    sigma_w2, bias = line(Q_GRID)
    gap = bias - sigma_b2
    if gap[0] >= 0 and abs(bias[0]) <= 1e-9 * max(sigma_b2, 1e-3):
        return float(sigma_w2[0])  # sigma_b2 = 0 on a line that starts at q* = 0
    cross = np.flatnonzero((gap[:-1] < 0) & (gap[1:] >= 0))
    if cross.size == 0:
        return math.nan
    i = int(cross[0])
    q = brentq(lambda q: float(line(q)[1]) - sigma_b2, Q_GRID[i], Q_GRID[i + 1],
               xtol=1e-15, rtol=1e-13)
    return float(line(q)[0])


def chi_line(activation: str, chi: float = 1.0, q=np.geomspace(1e-6, 1e2, 400),
             negative_slope: float = 0.01) -> pd.DataFrame:
    """The curve chi_1 = `chi` in the (sigma_w2, sigma_b2) plane (theory), traced by its
    fixed point q* (Poole et al.'s way): at q*, sigma_w2 = chi / E[phi'^2] and
    sigma_b2 = q* - sigma_w2 E[phi^2]. Points with sigma_b2 < 0 are dropped. ReLU-like
    activations: the vertical line sigma_w2 = chi / E[phi'^2]."""
    q = np.asarray(q, dtype=np.float64)
    slope2 = _means(lambda z: slope(activation, z, negative_slope) ** 2, q)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma_w2 = chi / slope2
        if activation in POSITIVELY_HOMOGENEOUS:
            sigma_b2 = q
        else:
            sigma_b2 = q - sigma_w2 * _means(
                lambda z: phi(activation, z, negative_slope) ** 2, q)
    keep = (sigma_b2 >= 0) & np.isfinite(sigma_w2)
    return pd.DataFrame({"q_star": q[keep], "sigma_w2": sigma_w2[keep],
                         "sigma_b2": sigma_b2[keep], "chi1": chi})


# --- Residual branches scaled by beta (Hanin & Rolnick 2018; SkipInit; ReZero) -------
# h_l = h_{l-1} + beta f(h_{l-1}) on layers 2..L (core.keras_model.Stack: layer 1 has no
# skip, so L - 1 layers are skipped). When f's output has mean zero, is uncorrelated
# with its input and has its input's variance (a linear layer with LeCun init), the
# variances add: E||h_l||^2 = (1 + beta^2) E||h_{l-1}||^2. Backward, dLoss/dh_{l-1} =
# (I + beta W_l) dLoss/dh_l with Var(W) = 1/n grows by the same factor.
def residual_growth(residual_scale: float, skipped_layers: int) -> float:
    """(1 + beta^2)^(skipped layers): the growth of E||h||^2 over them (theory)."""
    return float((1.0 + residual_scale ** 2) ** skipped_layers)


def residual_theory(depth: int, residual_scale: float) -> pd.DataFrame:
    """Theory per hidden layer for a mean-zero, variance-preserving branch: layer,
    theory_forward_gain ||h_l|| / ||h_1|| = (1 + beta^2)^((l-1)/2) and
    theory_backward_gain ||dLoss/dh_l|| / ||dLoss/dh_L|| = (1 + beta^2)^((L-l)/2)."""
    layers = np.arange(1, depth + 1)
    per_layer = 1.0 + residual_scale ** 2
    return pd.DataFrame({"layer": layers,
                         "theory_forward_gain": per_layer ** ((layers - 1) / 2.0),
                         "theory_backward_gain": per_layer ** ((depth - layers) / 2.0)})
