"""The Remedies page's experiments: a baseline that fails and each remedy on the same
seed and data; Glorot & Bengio's Figure 2; the tables and sentences the page shows.

Training goes through core.training (the page trains from a button, with progress);
the networks before training through core.per_layer (`before_training`, cached here).
Ratios, verdicts and run summaries are core.summary's. Imports no TensorFlow until a
network is measured.
"""
from __future__ import annotations

import pandas as pd

from ..cache import memoize
from ..datasets import DIGITS_FEATURES
from ..spec import ModelSpec
from ..summary import RECENT, format_number, format_value, summarize_run, summarize_runs
from ..training import TrainingSpec, training_model_spec

# scenario -> (description, baseline model, baseline training, remedies). A remedy is
# (label, model changes, training changes): applied one at a time to the baseline, on
# the same seed and data.
SCENARIOS = {
    "vanishing": (
        "10 sigmoid layers of 64 units with the 'standard' init U[-1/sqrt(n), 1/sqrt(n)] "
        "(n = 64), plain SGD at learning rate 0.1 on batches of 64 digits",
        ModelSpec(depth=10, width=64, activation="sigmoid", init="random_uniform",
                  limit=0.125),
        TrainingSpec(learning_rate=0.1, steps=400, eval_every=20),
        [("ReLU + He init", dict(activation="relu", init="he_normal"), {}),
         ("tanh + Glorot init", dict(activation="tanh", init="glorot_uniform"), {}),
         ("Glorot init (still sigmoid)", dict(init="glorot_uniform"), {}),
         ("batch normalization", dict(batch_norm=True), {}),
         ("residual connections", dict(residual=True), {})]),
    "exploding": (
        "10 ReLU layers of 64 units with N(0, 0.3^2) weights (He would be 0.18), plain "
        "SGD at learning rate 0.05 on batches of 64 digits",
        ModelSpec(depth=10, width=64, activation="relu", init="random_normal", stddev=0.3),
        TrainingSpec(learning_rate=0.05, steps=400, eval_every=20),
        [("He init", dict(init="he_normal"), {}),
         ("global_clipnorm = 1", {}, dict(global_clipnorm=1.0)),
         ("clipnorm = 1", {}, dict(clipnorm=1.0)),
         ("clipvalue = 0.1", {}, dict(clipvalue=0.1)),
         ("L2 = 0.01", {}, dict(l2=0.01)),
         ("batch normalization", dict(batch_norm=True), {})]),
}
SCENARIO_NAMES = {"vanishing": "deep sigmoid, 'standard' init",
                  "exploding": "deep ReLU, weights too large"}
BASELINE = "baseline"
BATCH_NORM, L2 = "batch normalization", "L2 = 0.01"  # remedies with a section of their own
GLOROT_FIGURE_2 = (
    ModelSpec(depth=4, width=256, activation="sigmoid", init="random_uniform",
              limit=0.0625),
    TrainingSpec(learning_rate=0.1, batch_size=10, steps=1500, eval_every=50))
GLOROT_ACTIVATIONS = ("sigmoid", "tanh")
# Measured in the browser on this app's server, two CPU cores shared with other work
# (2026-11-23, every remedy, 400 steps, click to charts): vanishing 14 s and exploding
# 13 s at a load average of about 2; a reviewer measured 40 s and more on busy cores.
# Glorot's Figure 2: 14 s. After a run the page shows the measured time.
TIMING = "about 15 seconds on idle cores, two to three times that when the server is busy"
CLIPPING_NOTE = (
    "`global_clipnorm` rescales the whole gradient when its norm exceeds c, so the "
    "direction is kept (Pascanu et al. 2013). `clipnorm` rescales each weight's gradient "
    "on its own and `clipvalue` cuts every entry to [−c, c]: both change the direction. "
    "Clipping caps the step; it does not fix the weights that made the gradient large. "
    "The table's *steps clipped* column says how often it acted.")
L2_NOTE = ("L2 pulls the weights toward zero a little at every step. It bounds their "
           "growth over hundreds of steps; it cannot stop an explosion that happens in "
           "the first few.")


# --- the runs ---------------------------------------------------------------------------
def remedy_labels(scenario: str) -> list[str]:
    return [label for label, _, _ in SCENARIOS[scenario][3]]


def scenario_runs(scenario: str, remedies=None, seed: int = 0,
                  steps: int | None = None) -> dict:
    """label -> (ModelSpec, TrainingSpec): the baseline and the chosen remedies (all by
    default); `steps` also sets accuracy to be measured 20 times over the run."""
    _, model, training, options = SCENARIOS[scenario]
    training = training.replace(seed=seed)
    if steps is not None:
        training = training.replace(steps=steps, eval_every=max(1, steps // 20))
    runs = {BASELINE: (model, training)}
    for label, model_changes, training_changes in options:
        if remedies is None or label in remedies:
            runs[label] = (model.replace(**model_changes), training.replace(**training_changes))
    return runs


def _changed(scenario: str, seed: int = 0) -> dict:
    """The baseline and the remedies that change the network (not only its training)."""
    model = SCENARIOS[scenario][1]
    return {label: run for label, run in scenario_runs(scenario, seed=seed).items()
            if label == BASELINE or run[0] != model}


def changed_networks(scenario: str, seed: int = 0) -> dict[str, ModelSpec]:
    """Those networks as trained on the digits (for their Keras code)."""
    return trained_networks(_changed(scenario, seed))


@memoize(entries=4)
def before_training(scenario: str) -> dict[str, pd.DataFrame]:
    """label -> core.per_layer profile of each changed network at initialization."""
    from ..per_layer import profile
    return {label: profile(model.replace(input_dim=DIGITS_FEATURES, batch_size=256))
            for label, (model, _) in _changed(scenario).items()}


def glorot_runs() -> dict:
    """Glorot & Bengio's Figure 2 network, with sigmoid and with tanh."""
    model, training = GLOROT_FIGURE_2
    return {name: (model.replace(activation=name), training) for name in GLOROT_ACTIVATIONS}


def trained_networks(runs: dict) -> dict[str, ModelSpec]:
    """label -> the ModelSpec each run trains (for its Keras code)."""
    return {label: training_model_spec(model, training, DIGITS_FEATURES)
            for label, (model, training) in runs.items()}


def stacked(tables: dict, column: str = "run") -> pd.DataFrame:
    """Several tables in one, each row labelled in `column` (for a CSV)."""
    return pd.concat([table.assign(**{column: label}) for label, table in tables.items()])


# --- what the runs show -----------------------------------------------------------------
def outcome(result: dict, classes: int = 10) -> str:
    """A measured verdict: diverged, did not learn (under twice chance), or learned."""
    if result["diverged_step"] is not None:
        return f"diverged at step {result['diverged_step']}"
    accuracy, batches = result["final_test_accuracy"], result["recent_batch_accuracy"]
    if not accuracy >= 2.0 / classes:
        if batches >= 2.0 / classes:  # batch norm's moving averages lag behind
            return f"learned on batches ({batches:.0%}), not on test ({accuracy:.0%})"
        return f"did not learn (chance is {1 / classes:.0%})"
    if batches - accuracy > 0.15:  # e.g. batch norm's inference statistics lagging
        return f"learned ({accuracy:.0%} test, {batches:.0%} batches)"
    return f"learned ({accuracy:.0%} on test)"


PERCENT_COLUMNS = ("test accuracy", f"batch accuracy, last {RECENT} steps", "steps clipped",
                   "most dead units")
RATIO_COLUMNS = ("weight-grad ratio layer 1 / top, step 1", "signal ratio layer 1 / top, step 1")
COMPARED = {"run": "run", "test_accuracy": "test accuracy",
            "recent_batch_accuracy": f"batch accuracy, last {RECENT} steps",
            "final_loss": "final loss", "diverged_step": "diverged at step",
            "grad_ratio_step_1": "weight-grad ratio layer 1 / top, step 1",
            "signal_ratio_step_1": "signal ratio layer 1 / top, step 1",
            "clipped_fraction": "steps clipped", "dead_max": "most dead units",
            "seconds": "seconds"}


def compare_runs(tables: dict) -> pd.DataFrame:
    """One row per run: what each remedy changed, all read from the recorded tables."""
    runs = summarize_runs(tables).rename(columns={"final_test_accuracy": "test_accuracy"})
    runs.insert(1, "outcome", [outcome(summarize_run(table), table.attrs.get("classes", 10))
                               for table in tables.values()])
    return runs[["run", "outcome", *list(COMPARED)[1:]]].rename(columns=COMPARED)


def trained_in(tables: dict) -> str:
    seconds = sum(table.attrs.get("seconds", 0.0) for table in tables.values())
    return f"{len(tables)} runs trained in {seconds:.0f} seconds on this server."


def clipped_runs(tables: dict) -> dict:
    """The runs whose optimizer clipped the gradient (clipnorm, clipvalue...)."""
    return {label: table for label, table in tables.items()
            if TrainingSpec(**table.attrs["training_spec"]).clipping}


def report(tables: dict) -> dict:
    """What the page shows about finished runs: summary (compare_runs), shown (the same
    with the final loss to 4 significant digits) and its caption, clipped (clipped_runs)
    and its learning_rate, and the batch-normalization note (None without that run)."""
    summary = compare_runs(tables)
    clipped = clipped_runs(tables)
    caption = (f"*Outcome*: learned means at least twice chance on the test set. "
               f"*batches*: training-mode accuracy on the last {RECENT} training batches; "
               f"with batch normalization it can run far ahead of the test accuracy (see "
               f"below). {trained_in(tables)}")
    return {"summary": summary, "caption": caption, "clipped": clipped,
            "shown": summary.assign(**{"final loss": [format_value(value) for value in
                                                      summary["final loss"]]}),
            "learning_rate": next(iter(clipped.values())).attrs["training_spec"][
                "learning_rate"] if clipped else None,
            "batch_norm_note": batch_norm_note(summary) if BATCH_NORM in tables else None}


def keras_batch_norm_defaults() -> dict:
    """keras.layers.BatchNormalization's defaults, read from the installed Keras."""
    import inspect

    from ..tf_setup import keras
    parameters = inspect.signature(keras.layers.BatchNormalization.__init__).parameters
    return {name: parameters[name].default
            for name in ("momentum", "epsilon", "moving_variance_initializer")}


def batch_norm_note(summary: pd.DataFrame) -> str:
    """What batch normalization did to the signal at step 1, and why its test accuracy
    can lag (Keras' moving averages)."""
    bn = keras_batch_norm_defaults()
    ratio = summary.set_index("run").loc[BATCH_NORM, COMPARED["signal_ratio_step_1"]]
    return (f"Batch normalization fixes the scale of every layer's activations, so "
            f"training goes on. Yet at initialization in a deep plain network it makes "
            f"the gradient **grow** going backward (Yang et al. 2019): here the signal "
            f"at layer 1 is {format_number(ratio)} times the top layer's.\n\n"
            f"Test accuracy is measured in inference mode, with the moving averages "
            f"Keras' BatchNormalization keeps (momentum {bn['momentum']:g}, moving "
            f"variance initialized to `{bn['moving_variance_initializer']}`). "
            f"When a layer's true variance is far from 1 those averages need many "
            f"steps to catch up, so the test accuracy can lag far behind the accuracy "
            f"on the training batches (the table shows both).")


# --- Glorot & Bengio's Figure 2 ---------------------------------------------------------
def glorot_description() -> str:
    model, training = GLOROT_FIGURE_2
    return (f"Glorot and Bengio (2010) trained a network of {model.depth} sigmoid hidden "
            f"layers initialized with the 'standard' U[−1/√n, 1/√n] and watched each "
            f"layer's mean activation: the top layer quickly saturates near 0 and learning "
            f"stalls. Here: {model.depth} × {model.width} on the digits, weights "
            f"U[−{model.limit:g}, {model.limit:g}] (1/√{model.width}; for the first layer, "
            f"whose fan-in is {DIGITS_FEATURES}, the paper's rule would give 0.125), SGD "
            f"at learning rate {training.learning_rate:g}, batches of "
            f"{training.batch_size}, {training.steps:,} steps; then the same network with "
            f"tanh.")


def glorot_means(table: pd.DataFrame) -> pd.DataFrame:
    """Each layer's mean activation at step 1 and at the last step."""
    first, last = (table[table["step"] == step].set_index("layer")["activation_mean"]
                   for step in (1, table["step"].max()))
    return pd.DataFrame({"layer": first.index, "mean at step 1": first.values,
                         "mean at the end": last.values})


def glorot_facts(tables: dict) -> str:
    """One sentence of what the runs measured: the top layer's mean, the accuracy."""
    facts = []
    for label, table in tables.items():
        top = table[table["layer"] == table["layer"].max()].set_index("step")
        result = summarize_run(table)
        facts.append(f"{label}: top layer's mean {top['activation_mean'].iloc[0]:.2f} at "
                     f"step 1, {top['activation_mean'].iloc[-1]:.2f} at step "
                     f"{result['steps_done']:,}; test accuracy "
                     f"{result['final_test_accuracy']:.0%}")
    return "Measured here, " + "; ".join(facts) + ". " + trained_in(tables)
