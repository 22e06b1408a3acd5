"""NaN forensics: what happened when a training run diverged, read from its table.

`report(table)` takes a core.training table (or a Through time clipping table, from
core.experiments.through_time.train_clipping) whose run stopped on inf or nan, and says:

- the first non-finite quantity (activation, loss, gradient or weight), its step and
  hidden layer, in the order a step computes them (core.training's `divergence`);
- the last finite steps leading up to it: per layer the weight-gradient norm and the
  update-to-weight ratio, per step the loss, ‖g‖, learning rate × ‖g‖ and the largest
  |logit|;
- the likely cause in words: learning rate × gradient norm (updates as large as the
  weights), an overflow in the loss (the logits softmax exponentiates), saturating
  units, or an initial network that overflows before any update;
- the fixes to replay (a lower learning rate, global-norm clipping), as TrainingSpec
  changes (`replay_runs`).

Pure numpy and pandas: every number is read from the recorded table.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .activations import saturates
from .spec import ModelSpec
from .summary import format_number
from .training import TrainingSpec

LEAD_UP_STEPS = 5  # finite steps shown before the divergence
FLOAT32_MAX = float(np.finfo(np.float32).max)  # 3.4e38
SQUARE_OVERFLOWS = math.sqrt(FLOAT32_MAX)  # 1.8e19: a larger number squares to inf
UPDATE_TOO_LARGE = 1.0  # update-to-weight ratio: the step is as large as the weights
HEALTHY_RATIO = 1e-3  # the usual rule of thumb for an update-to-weight ratio
SATURATED_MANY = 0.5  # share of a layer's units on a flat tail
TARGET_FIRST_RATIO = 0.1  # the suggested learning rate keeps step 1's ratio under this
CLIP_THRESHOLD = 1.0  # the suggested global_clipnorm
QUANTITIES = {"activations (forward pass)": "activation", "loss": "loss",
              "gradients (backward pass)": "gradient", "gradients (readout)": "gradient",
              "weights (after this step's update)": "weight"}
CAUSES = {"learning_rate": "learning rate × gradient norm",
          "loss_overflow": "an overflow in the loss",
          "saturation": "saturating units",
          "adam_second_moment": "Adam's running mean of g² overflowing",
          "clip_overflow": "global-norm clipping's ‖g‖ overflowing",
          "initialization": "the initial network"}
LAYER_COLUMNS = ["step", "layer", "weight_grad_norm", "update_ratio", "saturated_fraction"]
STEP_COLUMNS = ["step", "loss", "global_grad_norm", "lr_times_grad_norm", "logit_max",
                "largest_update_ratio"]
THROUGH_TIME_NOTE = (
    "This recurrent training records, per step, the loss and the gradient norm over all "
    "weights (it has no hidden layers to tell apart): the report names the step and the "
    "quantity, loss or gradient, that went non-finite first, not a layer.")


def nice_floor(value: float) -> float:
    """The largest of 1, 2, 5 x a power of ten that is at most `value`."""
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in (5, 2, 1) if m * power <= value * (1 + 1e-9))


def _n(value) -> str:
    return format_number(float(value))


# --- core.training runs -----------------------------------------------------------------
def report(table: pd.DataFrame) -> dict | None:
    """The divergence report of one run, or None if it did not diverge."""
    if "run" in table.columns:
        return through_time_report(table)
    divergence = table.attrs.get("divergence")
    if not divergence:
        return None
    training = TrainingSpec(**table.attrs["training_spec"])
    model = ModelSpec(**table.attrs["model_spec"])
    step, layer = divergence["step"], divergence["layer"]
    steps = table.groupby("step", sort=True).first()
    steps["lr_times_grad_norm"] = training.learning_rate * steps["global_grad_norm"]
    steps["largest_update_ratio"] = table.groupby("step", sort=True)["update_ratio"].max()
    shown = table[table["step"] >= step - LEAD_UP_STEPS]
    lead_up = steps.loc[steps.index >= step - LEAD_UP_STEPS].reset_index()
    quantity = QUANTITIES[divergence["where"]]
    cause, sentences = _cause(table, steps, training, model, divergence, quantity)
    at = f", hidden layer {layer}" if layer else ""
    fixes = [] if cause == "initialization" else suggested_fixes(table, training)
    return {"kind": "training", "step": step, "layer": layer, "quantity": quantity,
            "value": divergence["value"], "where": divergence["where"], "cause": cause,
            "cause_name": CAUSES[cause],
            "headline": f"First non-finite quantity: the {quantity} ({divergence['value']}) "
                        f"at step {step}{at}. Likely cause: {CAUSES[cause]}.",
            "explanation": " ".join(sentences), "learning_rate": training.learning_rate,
            "layers": shown[LAYER_COLUMNS].reset_index(drop=True),
            "steps": lead_up[STEP_COLUMNS], "fixes": fixes}


def _cause(table, steps, training, model, divergence, quantity) -> tuple[str, list[str]]:
    step, value = divergence["step"], divergence["value"]
    if step == 1:
        return "initialization", [
            f"The {quantity} went {value} at step 1, before any update: the initial "
            f"network itself overflows float32 (largest value {FLOAT32_MAX:.2g}). No "
            "learning rate or clipping changes that; a smaller initialization does (see "
            "the Initialization page)."]
    last = table[table["step"] == step - 1].set_index("layer")
    before = steps.loc[step - 1]
    worst = int(last["update_ratio"].idxmax())
    ratio = float(last.loc[worst, "update_ratio"])
    growth = steps["global_grad_norm"].iloc[0]
    step_size = (f"learning rate × ‖g‖ = {training.learning_rate:g} × "
                 f"{_n(before['global_grad_norm'])} = {_n(before['lr_times_grad_norm'])}")
    if training.optimizer != "sgd" or training.clipping:  # the measured update instead
        step_size = (f"‖ΔW‖ = {_n(before['global_update_norm'])} ({training.optimizer}"
                     f"{', ' + training.clipping if training.clipping else ''}, "
                     f"learning rate {training.learning_rate:g}, ‖g‖ = "
                     f"{_n(before['global_grad_norm'])})")
    lead = (f"At step {step - 1}, the last finite one, the update was {step_size}, and "
            f"layer {worst}'s update was {_n(ratio)} times its weights (update-to-weight "
            f"ratio; about {HEALTHY_RATIO:g} is healthy). ")
    sentences = []
    if quantity == "loss":
        logit_now, logit_before = steps.loc[step, "logit_max"], before["logit_max"]
        sentences.append(
            f"Every hidden activation was finite at step {step}, but the loss was not: "
            f"the logits, which softmax cross-entropy exponentiates, reached "
            f"{_n(logit_before)} at step {step - 1} and {_n(logit_now)} at step {step}. "
            f"Keras subtracts the largest logit before exp, so exp overflows only once a "
            f"logit passes float32's {FLOAT32_MAX:.2g} (or two lie that far apart); then "
            f"log-sum-exp gives inf − inf = nan.")
        cause = "loss_overflow"
    else:
        cause = "learning_rate" if ratio >= UPDATE_TOO_LARGE else None
    gradient = steps.loc[step, "global_grad_norm"]
    if quantity == "weight" and training.global_clipnorm and gradient > SQUARE_OVERFLOWS:
        sentences.append(
            f"The gradient of step {step} was finite but the weights after its update "
            f"were not: ‖g‖ = {_n(gradient)} is beyond √(float32 max) = "
            f"{SQUARE_OVERFLOWS:.2g}. Keras' global_clipnorm sums the squared entries in "
            f"float32, so its ‖g‖ is inf, and Keras then makes the clipped gradient nan "
            f"on purpose: clipping cannot rescue a gradient this large.")
        cause = "clip_overflow"
    elif quantity == "weight" and training.optimizer == "adam" and \
            gradient > SQUARE_OVERFLOWS:
        sentences.append(
            f"The gradient of step {step} was finite but the weights after its update "
            f"were not: ‖g‖ = {_n(gradient)} is beyond √(float32 max) = "
            f"{SQUARE_OVERFLOWS:.2g}, where a gradient entry's square overflows. Adam "
            f"keeps a running mean of g² (v); once v is inf, its update m/(√v + ε) is "
            f"inf/inf = nan.")
        cause = "adam_second_moment"
    sentences.append(lead + f"‖g‖ went from {_n(growth)} at step 1 to "
                     f"{_n(before['global_grad_norm'])} at step {step - 1}" + (
                         ": each step overshoots, larger weights give a larger gradient, "
                         "and the next step is larger still, until float32 overflows."
                         if ratio >= UPDATE_TOO_LARGE else "."))
    saturated = last["saturated_fraction"].astype(np.float64)
    if saturates(model.activation) and saturated.max() >= SATURATED_MANY:
        crowded = int(saturated.idxmax())
        sentences.append(
            f"{saturated.max():.0%} of layer {crowded}'s units were saturated at step "
            f"{step - 1} ({model.activation} on a flat tail, slope under 5% of its peak): "
            f"their gradient is near zero, so they cannot be pulled back, and the "
            f"network had left its working range before it overflowed.")
        cause = cause or "saturation"
    return cause or "learning_rate", [s for s in sentences if s]


def suggested_fixes(table: pd.DataFrame, training: TrainingSpec) -> list[dict]:
    """[{label, changes}]: a lower learning rate (a tenth, or less so that step 1's
    largest update-to-weight ratio would be TARGET_FIRST_RATIO) and global-norm
    clipping, each a set of TrainingSpec changes."""
    first = float(table.loc[table["step"] == 1, "update_ratio"].max())
    rate = training.learning_rate / 10
    if math.isfinite(first) and first > 0:
        rate = min(rate, training.learning_rate * TARGET_FIRST_RATIO / first)
    rate = nice_floor(rate)
    clip = CLIP_THRESHOLD
    if training.global_clipnorm:
        clip = nice_floor(min(CLIP_THRESHOLD, training.global_clipnorm / 10))
    return [{"label": f"learning rate {rate:g}", "changes": {"learning_rate": rate}},
            {"label": f"global_clipnorm = {clip:g}",
             "changes": {"global_clipnorm": clip, "clipnorm": 0.0, "clipvalue": 0.0}}]


def replay_runs(table: pd.DataFrame, fixes: list[dict]) -> dict:
    """label -> (ModelSpec, TrainingSpec): the run again with each fix, the same seed,
    data and batches."""
    model = ModelSpec(**table.attrs["model_spec"])
    training = TrainingSpec(**table.attrs["training_spec"])
    return {f"replay: {fix['label']}": (model, training.replace(**fix["changes"]))
            for fix in fixes}


# --- Through time: the recurrent clipping runs ------------------------------------------
def through_time_report(table: pd.DataFrame, run: str = "without clipping") -> dict | None:
    """The report of a train_clipping run (default: the unclipped one), or None."""
    group = table[table["run"] == run]
    loss = group["loss"].to_numpy(np.float64)
    norm = group["grad_norm_before"].to_numpy(np.float64)
    broken = ~(np.isfinite(loss) & np.isfinite(norm))
    if not broken.any():
        return None
    index = int(np.flatnonzero(broken)[0])
    step = int(group["step"].iloc[index])
    quantity = "loss" if not np.isfinite(loss[index]) else "gradient"
    value = "nan" if np.isnan(loss[index]) or np.isnan(norm[index]) else "inf"
    rate = float(table.attrs["spec"]["learning_rate"])
    lead = group.iloc[max(0, index - LEAD_UP_STEPS):index + 1]
    steps = pd.DataFrame({"step": lead["step"], "loss": lead["loss"],
                          "global_grad_norm": lead["grad_norm_before"],
                          "lr_times_grad_norm": rate * lead["grad_norm_before"]})
    if index == 0:
        explanation = (f"The {quantity} was {value} at the very first step: the initial "
                       f"recurrent network overflows float32 before any update.")
    else:
        last = float(norm[index - 1])
        explanation = (
            f"At step {step - 1}, the last finite one, ‖g‖ was {_n(last)}, so plain SGD "
            f"moved the weights by learning rate × ‖g‖ = {rate:g} × {_n(last)} = "
            f"{_n(rate * last)} (‖g‖ at step 1: {_n(norm[0])}). Through time the same "
            f"recurrent matrix multiplies the gradient once per time step, so a large "
            f"recurrent gain makes ‖g‖ explode, and an unclipped step that large "
            f"overflows float32 at step {step}.")
        if quantity == "loss":
            explanation += (
                f" The loss went first: it is the mean squared error, and the prediction "
                f"error had reached about √loss = {_n(math.sqrt(loss[index - 1]))} at step "
                f"{step - 1}; its square passes float32's {FLOAT32_MAX:.2g}.")
    clipped = table[table["run"] != run]
    fixed = clipped.empty or np.isfinite(clipped["loss"].to_numpy(np.float64)).all()
    return {"kind": "through_time", "step": step, "layer": None, "quantity": quantity,
            "value": value, "where": quantity, "cause": "learning_rate",
            "cause_name": CAUSES["learning_rate"],
            "headline": f"First non-finite quantity: the {quantity} ({value}) at step "
                        f"{step} of the unclipped run. Likely cause: "
                        f"{CAUSES['learning_rate']}.",
            "explanation": explanation + (
                " The clipped run beside it, from the same weights and batches, stays "
                "finite." if fixed else " The clipped run overflows too: lower the "
                "learning rate or the threshold."),
            "learning_rate": rate, "layers": None, "steps": steps.reset_index(drop=True),
            "fixes": [{"label": f"learning rate {nice_floor(rate / 10):g}",
                       "changes": {"learning_rate": nice_floor(rate / 10)}}],
            "note": THROUGH_TIME_NOTE}


def replay_through_time(table: pd.DataFrame, fix: dict, on_step=None) -> pd.DataFrame:
    """Through time's two runs again (same seed, data and batches) with the fix."""
    from .experiments.through_time import ClippingSpec, train_clipping
    spec = ClippingSpec(**table.attrs["spec"]).replace(**fix["changes"])
    return train_clipping(spec, on_step)


def through_time_compared(table: pd.DataFrame, replays: dict) -> pd.DataFrame:
    """The unclipped run and each replay's unclipped run, in one table (`run`: label)."""
    frames = [table[table["run"] == "without clipping"].assign(run="original, no clipping")]
    frames += [replay[replay["run"] == "without clipping"].assign(run=label)
               for label, replay in replays.items()]
    return pd.concat(frames, ignore_index=True)


# --- text and JSON ----------------------------------------------------------------------
def text(found: dict) -> str:
    """The report as lines for a terminal."""
    lines = [found["headline"], found["explanation"], "Last steps before it:"]
    lines += ["  " + line for line in found["steps"].to_string(
        index=False, float_format=lambda v: f"{v:.3g}").splitlines()]
    if found["layers"] is not None:
        for column, name in (("weight_grad_norm", "Weight-gradient norm ‖dLoss/dW‖"),
                             ("update_ratio", "Update-to-weight ratio ‖ΔW‖/‖W‖")):
            lines.append(f"{name}, per hidden layer (rows) and step (columns):")
            wide = found["layers"].pivot(index="layer", columns="step", values=column)
            lines += ["  " + line for line in wide.to_string(
                float_format=lambda v: f"{v:.3g}").splitlines()]
    lines += [f"Suggested fix: {fix['label']}" for fix in found["fixes"]]
    return "\n".join(lines)


def _plain(value):
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def to_json(found: dict | None) -> dict | None:
    """The report with its tables as records and inf/nan as text (JSON-safe)."""
    if found is None:
        return None
    out = {}
    for key, value in found.items():
        if isinstance(value, pd.DataFrame):
            value = [{k: _plain(v) for k, v in row.items()}
                     for row in value.to_dict(orient="records")]
        out[key] = _plain(value)
    return out
