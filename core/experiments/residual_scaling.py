"""Remedies' residual-scaling section: every skipped layer is h + beta x branch(h).

Three presets of beta: 1 (the plain skip), 1/sqrt(L) and 0 (SkipInit/ReZero: each
skipped layer is the identity at initialization, and in training beta is a learned
scalar that starts at 0). The signal through networks with a linear branch (LeCun
init: mean zero, the variance of its input) and with a ReLU branch (He init: the second
moment of its input, but all outputs positive) is measured by core.per_layer beside
core.theory's (1 + beta^2)^(l-1); the Remedies baseline is trained with each beta
through core.training. Layer 1 has no skip (core.keras_model.Stack), so L - 1 layers
are skipped. Imports no TensorFlow until a network is measured.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..cache import memoize
from ..spec import ModelSpec
from ..summary import format_number
from ..theory import residual_growth, residual_theory
from . import remedies

PRESETS = ("1", "1/sqrt(L)", "0")
DEFAULT_PRESETS = PRESETS
DEPTHS = (5, 10, 20, 50)
DEFAULT_DEPTH = 20
WIDTH, BATCH = 256, 256  # wide and a full batch: the measurement sits close to theory
BRANCHES = {
    "linear": ("linear branch W h, LeCun init: mean zero, the variance of its input",
               dict(activation="linear", init="lecun_normal")),
    "relu": ("ReLU branch relu(W h), He init: the second moment of its input, every "
             "output ≥ 0", dict(activation="relu", init="he_normal")),
}
BRANCH_NAMES = {"linear": "linear branch (LeCun)", "relu": "ReLU branch (He)"}
THEORY_NOTE = (
    "*Theory*: when the branch's output has mean zero, is uncorrelated with its input "
    "and has the variance of its input, the variances of skip and branch add, so each "
    "skipped layer multiplies E‖h‖² by 1 + β²: (1 + β²)^(L−1) over the L − 1 skipped "
    "layers (layer 1 has no skip). β = 1 doubles it per layer, β = 1/√L keeps it below "
    "e ≈ 2.7 at any depth, β = 0 keeps it exactly 1. Backward, the gradient is "
    "multiplied by I + βWᵀ and grows by the same factor.")
RELU_NOTE = (
    "A ReLU branch outputs only numbers ≥ 0: every skipped layer adds a positive mean to "
    "every unit, the means pile up along the skip path, and skip and branch add "
    "coherently (the cross term 2β·E[h·relu(Wh)] is positive), so E‖h‖² grows faster "
    "than (1 + β²) per layer. The backward theory also assumes the gradient is "
    "independent of the weights it passes through; here it comes from a loss on the "
    "output those same weights produced, so the measured backward growth sits above "
    "the theory, slightly for the linear branch and far for the ReLU one.")
TRAINING_NOTE = (
    "With β = 0 the scale of every skip is a trainable Keras weight that starts at 0 "
    "(SkipInit, De & Smith 2020; ReZero, Bachlechner et al. 2020): at step 1 the network "
    "is its first layer and the readout, and gradient descent grows each branch in as it "
    "helps. The other β are fixed.")


def scale_of(preset: str, depth: int) -> float:
    """The preset's beta for a network of `depth` hidden layers."""
    if preset not in PRESETS:
        raise ValueError(f"residual scale preset must be one of {', '.join(PRESETS)} "
                         f"(got {preset!r})")
    return {"1": 1.0, "1/sqrt(L)": 1.0 / math.sqrt(depth), "0": 0.0}[preset]


def preset_label(preset: str, depth: int) -> str:
    """'β = 1/√L = 0.224' (L the depth)."""
    if preset == "1/sqrt(L)":
        return f"β = 1/√L = {scale_of(preset, depth):.3g}"
    return f"β = {preset}"


def network(branch: str, depth: int, residual_scale: float) -> ModelSpec:
    """The measured network: depth x WIDTH, the branch's activation and init, zero
    biases, every layer after the first skipped with this beta."""
    return ModelSpec(depth=depth, width=WIDTH, batch_size=BATCH, residual=True,
                     residual_scale=residual_scale, **BRANCHES[branch][1])


@memoize(entries=16)
def signal_profiles(branch: str, depth: int, presets: tuple = PRESETS) -> pd.DataFrame:
    """One row per preset and layer: beta, forward_gain ||h_l|| / ||h_1||,
    backward_gain ||dLoss/dh_l|| / ||dLoss/dh_L|| (core.per_layer, measured) and theory's
    theory_forward_gain and theory_backward_gain."""
    from ..per_layer import profile
    frames = []
    for preset in presets:
        beta = scale_of(preset, depth)
        table = profile(network(branch, depth, beta))
        norm = table["activation_norm"].to_numpy(np.float64)
        signal = table["signal_grad_norm"].to_numpy(np.float64)
        theory = residual_theory(depth, beta)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            frames.append(pd.DataFrame({
                "preset": preset, "beta": beta, "label": preset_label(preset, depth),
                "layer": table["layer"].to_numpy(),
                "forward_gain": norm / norm[0], "backward_gain": signal / signal[-1],
                "theory_forward_gain": theory["theory_forward_gain"].to_numpy(),
                "theory_backward_gain": theory["theory_backward_gain"].to_numpy()}))
    return pd.concat(frames, ignore_index=True)


def growth_table(depth: int, presets: tuple = PRESETS) -> pd.DataFrame:
    """One row per branch and preset: the growth of E||h||^2 over the L - 1 skipped
    layers (||h_L||^2 / ||h_1||^2) and of ||dLoss/dh||^2 (||g_1||^2 / ||g_L||^2),
    measured, beside theory's (1 + beta^2)^(L-1)."""
    rows = []
    for branch in BRANCHES:
        table = signal_profiles(branch, depth, tuple(presets))
        for preset, one in table.groupby("preset", sort=False):
            beta = float(one["beta"].iloc[0])
            forward = float(one["forward_gain"].iloc[-1]) ** 2
            backward = float(one["backward_gain"].iloc[0]) ** 2
            theory = residual_growth(beta, depth - 1)
            rows.append({"branch": BRANCH_NAMES[branch], "β": one["label"].iloc[0],
                         "forward growth, measured": forward,
                         "backward growth, measured": backward,
                         "theory (1 + β²)^(L−1)": theory,
                         "forward, measured / theory": forward / theory})
    return pd.DataFrame(rows)


def measure(branch: str, depth: int, presets) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(signal_profiles, growth_table) for the chosen presets, in PRESETS order (the
    Remedies section's call, and the slides' precompute of it)."""
    presets = tuple(preset for preset in PRESETS if preset in presets)
    return signal_profiles(branch, depth, presets), growth_table(depth, presets)


def growth_facts(growth: pd.DataFrame) -> str:
    """One sentence of the measured forward growths at beta = 1 against theory."""
    facts = [f"{row['branch']}: {format_number(row['forward growth, measured'])} "
             f"(theory {format_number(row['theory (1 + β²)^(L−1)'])})"
             for _, row in growth.iterrows() if row["β"] == "β = 1"]
    if not facts:
        return ""
    return "At β = 1 the measured E‖h‖² grew by " + "; ".join(facts) + "."


# --- training on the Remedies baseline -------------------------------------------------
def training_runs(scenario: str, presets=PRESETS, seed: int = 0,
                  steps: int | None = None) -> dict:
    """label -> (ModelSpec, TrainingSpec): the Remedies scenario's baseline, then the
    same network with skips scaled by each preset's beta (L the baseline's depth)."""
    runs = remedies.scenario_runs(scenario, remedies=(), seed=seed, steps=steps)
    model, training = runs[remedies.BASELINE]
    for preset in presets:
        beta = scale_of(preset, model.depth)
        label = f"skips, {preset_label(preset, model.depth)}" + (
            " (learned)" if beta == 0 else "")
        runs[label] = (model.replace(residual=True, residual_scale=beta), training)
    return runs


def learned_scales(tables: dict) -> str:
    """What the learned scales (beta = 0 at the start) became, from the runs' attrs."""
    facts = []
    for label, table in tables.items():
        spec = table.attrs.get("model_spec", {})
        scales = table.attrs.get("residual_scales") or []
        if spec.get("residual") and spec.get("residual_scale") == 0 and scales:
            facts.append(f"{label}: after {table.attrs['steps_done']:,} steps the "
                         f"{len(scales)} learned β run from {min(scales):.3g} to "
                         f"{max(scales):.3g} (mean {np.mean(scales):.3g}), from 0")
    return ("Measured: " + "; ".join(facts) + ".") if facts else ""
