"""Plain-words diagnosis of a per-layer profile: ratio, verdict, overflow and underflow.

Pure pandas/numpy: it reads only the table, so it applies to any stored result.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

VANISHING_BELOW = 1e-2  # signal ratio layer 1 / layer L below this: vanishing
EXPLODING_ABOVE = 1e2  # ... above this: exploding


def first_layer(df: pd.DataFrame, mask) -> int | None:
    layers = df.loc[np.asarray(mask), "layer"]
    return int(layers.iloc[0]) if len(layers) else None


def last_layer(df: pd.DataFrame, mask) -> int | None:
    layers = df.loc[np.asarray(mask), "layer"]
    return int(layers.iloc[-1]) if len(layers) else None


def gradient_ratio(first: float, last: float) -> float:
    """first / last, with 0/0 and non-finite values reported as nan."""
    if not (math.isfinite(first) and math.isfinite(last)):
        return math.nan
    if last == 0:
        return math.nan if first == 0 else math.inf
    return first / last


def verdict_of(ratio: float, overflow: bool, underflow: bool) -> str:
    if overflow:
        return "exploding"
    if underflow:
        return "vanishing"
    if not math.isfinite(ratio):
        return "exploding" if ratio == math.inf else "undefined"
    if ratio < VANISHING_BELOW:
        return "vanishing"
    if ratio > EXPLODING_ABOVE:
        return "exploding"
    return "healthy"


def summarize(df: pd.DataFrame, column: str = "signal_grad_norm") -> dict:
    """What happened to `column` from the last hidden layer back to the first.

    Keys: ratio (layer 1 / layer L), log10_ratio, verdict ('vanishing', 'healthy',
    'exploding' or 'undefined'), and for the gradient and the forward activations the
    layer where inf/nan first appears (counting from the output side for gradients,
    from the input side for activations) and where exact zeros (underflow) start.
    """
    values = df[column].to_numpy(dtype=np.float64)
    forward = df["activation_norm"].to_numpy(dtype=np.float64) \
        if "activation_norm" in df else np.ones_like(values)
    ratio = gradient_ratio(values[0], values[-1])
    overflow = ~np.isfinite(values)
    underflow = values == 0
    # The gradient flows from the last layer to the first: report the layer closest
    # to the output where it first broke.
    out = {
        "ratio": ratio,
        "log10_ratio": math.log10(ratio) if ratio > 0 and math.isfinite(ratio) else (
            math.inf if ratio == math.inf else math.nan),
        "verdict": verdict_of(ratio, bool(overflow.any()), bool(underflow.any())),
        "grad_nonfinite_from": last_layer(df, overflow),
        "grad_inf_from": last_layer(df, np.isinf(values)),
        "grad_nan_from": last_layer(df, np.isnan(values)),
        "grad_zero_from": last_layer(df, underflow),
        "forward_nonfinite_from": first_layer(df, ~np.isfinite(forward)),
        "forward_zero_from": first_layer(df, forward == 0),
        "output_norm": float(forward[-1]),
    }
    return out


def describe_problems(summary: dict, column_label: str = "back-propagated signal") -> list[str]:
    """Sentences naming where overflow and underflow happened (empty if none did)."""
    lines = []
    if summary["forward_nonfinite_from"] is not None:
        lines.append(f"The forward signal overflows (inf or nan) from hidden layer "
                     f"{summary['forward_nonfinite_from']} on.")
    if summary["forward_zero_from"] is not None:
        lines.append(f"The forward signal underflows to exactly 0 from hidden layer "
                     f"{summary['forward_zero_from']} on.")
    if summary["grad_inf_from"] is not None:
        lines.append(f"Going back from the output, the {column_label} overflows to inf "
                     f"at hidden layer {summary['grad_inf_from']}.")
    if summary["grad_nan_from"] is not None:
        lines.append(f"The {column_label} is nan (not a number: inf x 0 or inf - inf) "
                     f"from hidden layer {summary['grad_nan_from']} down to layer 1.")
    if summary["grad_zero_from"] is not None:
        lines.append(f"The {column_label} underflows to exactly 0 from hidden layer "
                     f"{summary['grad_zero_from']} down to layer 1.")
    return lines
