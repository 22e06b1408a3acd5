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
