"""The Activations page's experiments: every activation and its slope read off Keras'
curves, and the dying-ReLU training runs, with the tables and sentences the page shows.

Curves come from core.activations (`curves`, cached here); training from core.training
(the page trains from a button, with progress); run summaries from core.summary.
Imports no TensorFlow until a curve is drawn or a network trained.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..cache import memoize
from ..datasets import DIGITS_FEATURES
from ..spec import ModelSpec
from ..summary import summarize_runs
from ..training import TrainingSpec, training_model_spec

ACTIVATION_CHOICES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu",
                      "swish")
CURVE_POINTS = 401
NOT_COUNTED = "n/a (piecewise linear)"  # no tail the slope approaches: not counted
DYING_RELU_RATES = (0.05, 0.5, 1.0)
KEPT_RUNS = 10  # runs a session keeps (the oldest is dropped first)


# --- the curves ---------------------------------------------------------------------
def curve_facts(curves: pd.DataFrame) -> pd.DataFrame:
    """Per activation, read off the measured curves: peak slope, slopes at both ends,
    where the slope is exactly 0 and where it saturates (core.per_layer's definition)."""
    from ..activations import saturates
    from ..per_layer import SATURATION_SLOPE
    rows = []
    for name, curve in curves.groupby("activation", sort=False):
        slope = curve["slope"].to_numpy()
        z = curve["z"].to_numpy()
        zero = z[slope == 0]
        # core.per_layer's saturation rule: |slope| under 5% of the peak, on a tail |z| >= 2
        flat = (np.abs(slope) < SATURATION_SLOPE * slope.max()) & (np.abs(z) >= 2.0)
        sides = [f"z <= {z[flat & (z < 0)].max():.2g}" if (flat & (z < 0)).any() else "",
                 f"z >= {z[flat & (z > 0)].min():.2g}" if (flat & (z > 0)).any() else ""]
        rows.append({"activation": name, "peak slope": float(slope.max()),
                     f"slope at z = {z[0]:g}": float(slope[0]),
                     f"slope at z = {z[-1]:g}": float(slope[-1]),
                     "output range on the grid": f"{curve['value'].min():.3g} to "
                                                  f"{curve['value'].max():.3g}",
                     "slope exactly 0 for": (f"z <= {zero.max():g}" if zero.size else
                                             "no z on the grid"),
                     "saturated (slope < 5% of peak) for": (
                         " and ".join(side for side in sides if side) or "no z on the grid")
                     if saturates(name) else NOT_COUNTED})
    return pd.DataFrame(rows)


def keras_leaky_relu_defaults() -> dict:
    """Keras' default negative slopes, read from the installed Keras' signatures."""
    import inspect

    from ..tf_setup import keras
    layer = inspect.signature(keras.layers.LeakyReLU.__init__).parameters["negative_slope"]
    function = inspect.signature(keras.activations.leaky_relu).parameters["negative_slope"]
    return {"keras.layers.LeakyReLU": layer.default,
            "keras.activations.leaky_relu": function.default}


def curve_notes(facts: pd.DataFrame) -> str:
    """The page's notes on the curves, with the slopes read off `facts` and Keras'
    default negative slopes."""
    defaults = keras_leaky_relu_defaults()
    low = next(column for column in facts.columns if column.startswith("slope at z ="))
    left = facts.set_index("activation")[low]
    return (
        f"- **Sigmoid** has a peak slope of 0.25, so every sigmoid layer divides the "
        f"gradient by at least 4; sigmoid and tanh slopes fall toward 0 on both tails "
        f"(saturation).\n"
        f"- **ReLU** has slope 1 for z > 0 and exactly 0 for z ≤ 0: no saturation on the "
        f"right, a dead zone on the left.\n"
        f"- **Leaky ReLU** is the only one here whose slope never fades: it is the fixed "
        f"negative slope for every z < 0, so no unit can die. Defaults differ: "
        f"`keras.layers.LeakyReLU` uses {defaults['keras.layers.LeakyReLU']:g}, "
        f"`keras.activations.leaky_relu` {defaults['keras.activations.leaky_relu']:g} (read "
        f"from the installed Keras); the literature's usual value is 0.01 (the course "
        f"notes' 0.001 is unusually small).\n"
        f"- **ELU** and **SELU** curve smoothly to a negative floor; SELU is "
        f"self-normalizing with `lecun_normal` weights (Klambauer et al. 2017). **GELU** "
        f"and **swish** dip slightly below zero on the left, so their slope there is "
        f"slightly negative. On the left, none of the four has a flat zero region (GELU's "
        f"and swish's slope is 0 only at the single point where it changes sign), but the "
        f"slope fades toward 0 as z becomes very negative: at {low[len('slope at '):]} it "
        f"is {left['elu']:.2g} (ELU), {left['selu']:.2g} (SELU), {left['gelu']:.2g} (GELU) "
        f"and {left['swish']:.2g} (swish), and the table counts all four as saturated on "
        f"the left.\n"
        f"- So can they die? By the strict rule used below (zero output *and* zero slope "
        f"on every example), rarely: ELU and SELU never output 0, and GELU and swish do "
        f"only where float32 rounds a tiny value to 0 (z below about −13.5 for GELU, −87 "
        f"for swish), as when a run is blowing up. What counts is the slope: far to the "
        f"left it is tiny (float32 even rounds ELU's and SELU's to 0 below about "
        f"z = −17), so a unit pushed there gets almost no gradient, like a saturated "
        f"sigmoid, and can stay stuck.")


@memoize(entries=16)
def curves(negative_slope: float) -> dict:
    """Everything the page shows about the curves: curves (phi and phi' of every
    activation, core.activations), facts (curve_facts), caption and notes."""
    from ..activations import activation_curves
    table = activation_curves(ACTIVATION_CHOICES, points=CURVE_POINTS,
                              negative_slope=negative_slope)
    facts = curve_facts(table)
    grid = table[table["activation"] == ACTIVATION_CHOICES[0]]["z"]
    return {"curves": table, "facts": facts, "notes": curve_notes(facts),
            "caption": f"Read off the curves above, on a grid of {len(grid)} points from "
                       f"z = {grid.min():g} to {grid.max():g}. Saturated uses the same rule "
                       f"as the profile pages: a slope under 5% of the activation's peak "
                       f"slope, on a tail (|z| ≥ 2)."}


# --- dying ReLU ---------------------------------------------------------------------
def activation_experiment(activation: str, negative_slope: float = 0.01,
                          seed: int = 0) -> ModelSpec:
    """6 x 32 on digits with the init each activation is designed for.

    He (he_normal) for the ReLU family, GELU and swish; LeCun (lecun_normal) for SELU,
    which is self-normalizing only with it; Glorot (glorot_uniform) for sigmoid and tanh.
    """
    init = {"selu": "lecun_normal", "sigmoid": "glorot_uniform",
            "tanh": "glorot_uniform"}.get(activation, "he_normal")
    return ModelSpec(depth=6, width=32, activation=activation, init=init,
                     negative_slope=negative_slope, seed=seed)


def trained_network(activation: str, negative_slope: float, seed: int) -> ModelSpec:
    """The experiment's network as trained on the digits (for its Keras code)."""
    return training_model_spec(activation_experiment(activation, negative_slope, seed),
                               TrainingSpec(seed=seed), DIGITS_FEATURES)


def run_label(model_spec: ModelSpec, training_spec: TrainingSpec) -> str:
    name = model_spec.activation
    if name == "leaky_relu":
        name += f" ({model_spec.negative_slope:g})"
    return f"{name}, lr {training_spec.learning_rate:g}, seed {training_spec.seed}"


def planned_runs(plan: str, activation: str, learning_rate: float, negative_slope: float,
                 seed: int, steps: int) -> dict:
    """label -> (ModelSpec, TrainingSpec). plan: "one" (this network), "rates" (at each
    of DYING_RELU_RATES) or "every" (every activation at this learning rate)."""
    pairs = {"one": [(activation, learning_rate)],
             "rates": [(activation, rate) for rate in DYING_RELU_RATES],
             "every": [(name, learning_rate) for name in ACTIVATION_CHOICES]}[plan]
    runs = {}
    for name, rate in pairs:
        model = activation_experiment(name, negative_slope, seed)
        spec = TrainingSpec(learning_rate=rate, steps=steps, seed=seed)
        runs[run_label(model, spec)] = (model, spec)
    return runs


def keep_run(runs: dict, label: str, table: pd.DataFrame) -> None:
    """Add a run to a session's runs (as the newest), keeping the last KEPT_RUNS."""
    runs.pop(label, None)
    runs[label] = table
    while len(runs) > KEPT_RUNS:
        runs.pop(next(iter(runs)))


def dead_so_far(dead_fractions: list) -> pd.DataFrame:
    """(step, layer, dead_fraction) of the on_step reports received so far."""
    dead = np.array(dead_fractions)
    steps, depth = dead.shape
    return pd.DataFrame({"step": np.repeat(np.arange(1, steps + 1), depth),
                         "layer": np.tile(np.arange(1, depth + 1), steps),
                         "dead_fraction": dead.reshape(-1)})


DYING_COLUMNS = {"run": "run", "dead_first": "dead at step 1",
                 "dead_last": "dead at the end", "dead_max": "most dead",
                 "final_test_accuracy": "test accuracy", "steps_done": "steps done",
                 "diverged_step": "diverged at step"}


def dying_relu_summary(tables: dict) -> pd.DataFrame:
    """Per run: dead units at step 1, at the end and at most; accuracy; divergence."""
    return summarize_runs(tables)[list(DYING_COLUMNS)].rename(columns=DYING_COLUMNS)
