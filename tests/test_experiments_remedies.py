"""core.experiments.remedies: scenarios, outcome sentences, the comparison table."""
import numpy as np
import pandas as pd
import pytest

from core.experiments import remedies
from core.experiments.remedies import outcome


@pytest.mark.parametrize("result, text", [
    (dict(diverged_step=7, final_test_accuracy=0.9, recent_batch_accuracy=0.9),
     "diverged at step 7"),
    (dict(diverged_step=None, final_test_accuracy=0.12, recent_batch_accuracy=0.55),
     "learned on batches (55%), not on test (12%)"),
    (dict(diverged_step=None, final_test_accuracy=0.12, recent_batch_accuracy=0.15),
     "did not learn (chance is 10%)"),
    (dict(diverged_step=None, final_test_accuracy=0.6, recent_batch_accuracy=0.9),
     "learned (60% test, 90% batches)"),
    (dict(diverged_step=None, final_test_accuracy=0.9, recent_batch_accuracy=0.95),
     "learned (90% on test)"),
    (dict(diverged_step=None, final_test_accuracy=float("nan"),
          recent_batch_accuracy=float("nan")), "did not learn (chance is 10%)"),
])
def test_remedy_outcome_sentences(result, text):
    assert outcome(result, classes=10) == text


def test_remedy_outcome_uses_the_number_of_classes():
    result = dict(diverged_step=None, final_test_accuracy=0.45, recent_batch_accuracy=0.45)
    assert outcome(result, classes=10) == "learned (45% on test)"
    assert outcome(result, classes=2) == "did not learn (chance is 50%)"


def test_scenario_runs_change_one_thing_each_on_the_same_seed():
    runs = remedies.scenario_runs("exploding", ["L2 = 0.01", "He init"], seed=7, steps=100)
    assert list(runs) == ["baseline", "He init", "L2 = 0.01"]
    (model, training), (he_model, he_training), (l2_model, l2_training) = runs.values()
    assert he_model == model.replace(init="he_normal") and he_training == training
    assert l2_model == model and l2_training == training.replace(l2=0.01)
    assert training.seed == 7 and training.steps == 100 and training.eval_every == 5
    assert list(remedies.scenario_runs("vanishing")) == ["baseline",
                                                         *remedies.remedy_labels("vanishing")]


def test_only_remedies_that_change_the_network_are_profiled_before_training():
    networks = remedies.changed_networks("exploding", seed=3)
    assert list(networks) == ["baseline", "He init", "batch normalization"]
    assert all(spec.input_dim == 64 and spec.seed == 3 for spec in networks.values())


def _run(losses, dead, classes=10, divergence=None, seconds=1.5, l2=0.0):
    """A hand-made training table of 2 layers (core.training's columns that count)."""
    steps = len(losses)
    table = pd.DataFrame({
        "step": np.repeat(np.arange(1, steps + 1), 2), "layer": np.tile([1, 2], steps),
        "loss": np.repeat(losses, 2), "batch_accuracy": 0.5, "clipped": False,
        "test_accuracy": np.repeat([0.1] + [np.nan] * (steps - 2) + [0.6], 2),
        "weight_grad_norm": np.tile([1e-4, 1.0], steps),
        "signal_grad_norm": np.tile([3.0, 1.5], steps),
        "dead_fraction": np.repeat(dead, 2), "activation_mean": np.tile([0.5, 0.9], steps)})
    table.attrs.update(classes=classes, divergence=divergence, seconds=seconds,
                       training_spec=remedies.TrainingSpec(l2=l2).to_dict())
    return table


def test_the_comparison_table_reads_every_run():
    tables = {"baseline": _run([2.3, 2.0, np.nan], [0.0, 0.5, 0.25],
                               divergence={"step": 3, "layer": None}),
              "L2 = 0.01": _run([2.3, 1.0, 0.5], [0.0, 0.0, 0.0], l2=0.01)}
    table = remedies.compare_runs(tables).set_index("run")
    assert list(table.columns) == ["outcome", *list(remedies.COMPARED.values())[1:]]
    assert table.loc["baseline", "outcome"] == "diverged at step 3"
    assert table.loc["baseline", "final loss"] == 2.0  # the last finite loss
    assert table.loc["L2 = 0.01", "outcome"] == "learned (60% on test)"
    assert pd.isna(table.loc["L2 = 0.01", "diverged at step"])
    assert table.loc["baseline", "weight-grad ratio layer 1 / top, step 1"] == 1e-4
    assert table.loc["baseline", "signal ratio layer 1 / top, step 1"] == 2.0
    assert table.loc["baseline", "most dead units"] == 0.5
    report = remedies.report(tables)
    assert report["clipped"] == {} and report["batch_norm_note"] is None
    assert report["shown"].set_index("run").loc["L2 = 0.01", "final loss"] == "0.5"
    assert report["caption"].endswith("2 runs trained in 3 seconds on this server.")


def test_glorot_figure_2_tables_and_sentence():
    tables = {"sigmoid": _run([2.3, 2.2, 2.1], [0, 0, 0])}
    means = remedies.glorot_means(tables["sigmoid"])
    assert list(means.columns) == ["layer", "mean at step 1", "mean at the end"]
    assert means["mean at the end"].tolist() == [0.5, 0.9]
    assert remedies.glorot_facts(tables).startswith(
        "Measured here, sigmoid: top layer's mean 0.90 at step 1, 0.90 at step 3; test "
        "accuracy 60%.")
    assert list(remedies.glorot_runs()) == ["sigmoid", "tanh"]
    assert "4 sigmoid hidden layers" in remedies.glorot_description()
