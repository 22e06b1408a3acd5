"""The multiplication effect (course notes, part 1): a deep linear net with W = a*I.

h_l = a^l x exactly, and dLoss/dh_l = a^(L-l) dLoss/dh_L exactly, so the measured
curves can be drawn beside theory lines that are exact, not approximate.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..spec import ModelSpec

WIDTH, BATCH = 32, 64


def identity_spec(depth: int, gain: float, dtype: str = "float32", seed: int = 0) -> ModelSpec:
    return ModelSpec(depth=depth, width=WIDTH, batch_size=BATCH, activation="linear",
                     init="identity", gain=gain, no_bias=True, dtype=dtype, seed=seed)


def theory_lines(table: pd.DataFrame, gain: float, input_norm: float) -> pd.DataFrame:
    """Exact values in float64: ||h_l|| = a^l ||x||, ||g_l|| = a^(L-l) ||g_L||."""
    layers = table["layer"].to_numpy(dtype=np.float64)
    depth = layers[-1]
    with np.errstate(over="ignore", under="ignore"):
        forward = input_norm * np.power(float(gain), layers)
        backward = float(table["signal_grad_norm"].iloc[-1]) * np.power(float(gain),
                                                                         depth - layers)
    return pd.DataFrame({"layer": table["layer"], "forward": forward, "backward": backward})


def chart_data(table: pd.DataFrame, gain: float, input_norm: float,
               pinned: tuple[str, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """Long tables for the forward and backward charts: measured rows and theory rows,
    grouped (one colour) by setting. `pinned`: (label, profile) of a pinned setting,
    whose measured rows are drawn beside the current ones in their own group."""
    theory = theory_lines(table, gain, input_norm)
    group = f"a = {gain:g}"
    forward = [
        pd.DataFrame({"layer": table["layer"], "series": "measured ||h_l||",
                      "value": table["activation_norm"], "kind": "measured"}),
        pd.DataFrame({"layer": theory["layer"], "series": f"theory: {gain:g}^l * ||x||",
                      "value": theory["forward"], "kind": "theory"})]
    backward = [
        pd.DataFrame({"layer": table["layer"], "series": "measured ||dLoss/dh_l||",
                      "value": table["signal_grad_norm"], "kind": "measured"}),
        pd.DataFrame({"layer": theory["layer"], "series": f"theory: {gain:g}^(L-l) * ||dLoss/dh_L||",
                      "value": theory["backward"], "kind": "theory"})]
    forward = [frame.assign(group=group) for frame in forward]
    backward = [frame.assign(group=group) for frame in backward]
    if pinned is not None:
        label, rows = pinned
        name = f"pinned: {label}"
        forward.append(pd.DataFrame({"layer": rows["layer"], "series": f"{name}, measured",
                                     "value": rows["activation_norm"], "kind": "measured",
                                     "group": name}))
        backward.append(pd.DataFrame({"layer": rows["layer"], "series": f"{name}, measured",
                                      "value": rows["signal_grad_norm"], "kind": "measured",
                                      "group": name}))
    return {"forward": pd.concat(forward, ignore_index=True),
            "backward": pd.concat(backward, ignore_index=True)}


def describe(setting: dict) -> str:
    """A setting of the identity network in a few words: 'a = 1.5, L = 50, float32'."""
    return f"a = {setting['gain']:g}, L = {setting['depth']}, {setting['dtype']}"


INF_FROM, ZERO_FROM = "‖h_l‖ = inf from layer (theory)", "h_l = 0 from layer (theory)"
NEVER = "—"  # not within the network's depth (or a = 0: multiplied by zero, not underflow)


def format_limits(depth: int, gain: float, seed: int = 0) -> pd.DataFrame:
    """Each number format of core.summary.FORMATS beside the identity network of `depth`
    and `gain`: its limits (core.summary.float_limits) and where theory puts the forward
    signal's failures, for that format's own rounding of the inputs x:
    - INF_FROM: the first l with a^l·‖x‖ above the format's max (‖h_l‖, summed
      in the format, overflows there; NEVER if it does not within `depth`);
    - ZERO_FROM: the first l with a^l·max|x| below the format's flush point (every
      entry of h_l, and so ‖h_l‖, is 0 from there; NEVER if not; a = 0 is a
      multiplication by zero, not underflow, and also NEVER).
    Limits are text (65504 exactly, 5 significant digits), layers too.
    Computed in logarithms, so no value overflows on the way."""
    from ..summary import FORMATS, float_limits, format_value
    from ..weights import make_data
    layers = np.arange(1, depth + 1)
    rows = []
    for dtype in FORMATS:
        limits = float_limits(dtype)
        x = make_data(identity_spec(depth, gain, dtype, seed))[0].astype(np.float64)
        norm, peak = np.linalg.norm(x), np.abs(x).max()
        inf_from = zero_from = None
        if gain > 0:
            log_a = np.log(gain)
            over = layers[layers * log_a + np.log(norm) > np.log(limits["max"])]
            under = layers[layers * log_a + np.log(peak) < np.log(limits["flush_below"])]
            inf_from = int(over[0]) if over.size else None
            zero_from = int(under[0]) if under.size else None
        rows.append({
            "format": dtype, "largest (inf above)": format_value(limits["max"], 5),
            "smallest normal": format_value(limits["smallest_normal"], 5),
            "smallest subnormal": format_value(limits["smallest_subnormal"], 5),
            "0 below (TensorFlow, CPU)": format_value(limits["flush_below"], 5),
            "significant digits": round(limits["digits"], 1),
            INF_FROM: NEVER if inf_from is None else str(inf_from),
            ZERO_FROM: NEVER if zero_from is None else str(zero_from)})
    return pd.DataFrame(rows)
