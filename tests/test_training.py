"""core.training: the spec, exact clipping, dying ReLU, divergence, stopping early."""
import numpy as np
import pytest

from core.spec import ModelSpec
from core.summary import summarize_run
from core.training import (COLUMNS, MAX_TRAINING_WORK, TrainingSpec, check_budget,
                           progress_text, train)

SMALL = ModelSpec(depth=3, width=16, activation="relu", init="he_normal")


def per_step(table):
    return table.groupby("step").first()


@pytest.mark.parametrize("changes, field", [
    (dict(dataset="mnist"), "dataset"), (dict(optimizer="rmsprop"), "optimizer"),
    (dict(learning_rate=0.0), "learning_rate"), (dict(steps=0), "steps"),
    (dict(batch_size=2.5), "batch_size"), (dict(clipnorm=-1.0), "clipnorm"),
    (dict(l2=float("nan")), "l2"), (dict(seed=True), "seed")])
def test_training_spec_rejects_bad_values_naming_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        TrainingSpec(**changes)


def test_only_one_clipping_and_a_work_budget():
    with pytest.raises(ValueError, match="only one of clipnorm"):
        TrainingSpec(clipnorm=1.0, global_clipnorm=1.0)
    assert TrainingSpec(global_clipnorm=1.0).clipping == "global_clipnorm"
    with pytest.raises(ValueError, match="training budget"):
        check_budget(ModelSpec(depth=100, width=256, batch_size=1),
                     TrainingSpec(steps=5000, batch_size=1024))
    assert check_budget(SMALL, TrainingSpec()) < MAX_TRAINING_WORK


def test_global_clipnorm_update_is_exactly_lr_times_clipped_norm():
    lr, c = 0.1, 1.0
    table = train(SMALL, TrainingSpec(learning_rate=lr, global_clipnorm=c, steps=25,
                                      batch_size=32, eval_every=25))
    assert list(table.columns) == COLUMNS
    assert len(table) == 25 * SMALL.depth
    steps = per_step(table)
    expected = lr * np.minimum(steps["global_grad_norm"], c)
    np.testing.assert_allclose(steps["global_update_norm"], expected, rtol=2e-5)
    np.testing.assert_array_equal(steps["clipped"], steps["global_grad_norm"] > c)
    assert 0 < steps["clipped"].mean() < 1  # both branches of min() were exercised


def test_leaky_relu_is_never_dead_while_relu_dies_at_a_large_learning_rate():
    model = ModelSpec(depth=6, width=32, activation="relu", init="he_normal")
    spec = TrainingSpec(learning_rate=1.0, steps=40, eval_every=40)
    relu = summarize_run(train(model, spec))
    assert relu["dead_max"] > relu["dead_first"] + 0.3
    leaky = train(model.replace(activation="leaky_relu", negative_slope=0.01), spec)
    assert (leaky["dead_fraction"].fillna(0) == 0).all()


def test_divergence_is_reported_not_raised():
    model = ModelSpec(depth=4, width=16, activation="linear", init="random_normal",
                      stddev=1.0)
    table = train(model, TrainingSpec(learning_rate=5.0, steps=50, eval_every=50))
    divergence = table.attrs["divergence"]
    assert divergence is not None and table.attrs["stopped"] == "diverged"
    assert table["step"].max() == divergence["step"] < 50
    assert "diverged at step" in divergence["message"]
    assert summarize_run(table)["diverged_step"] == divergence["step"]


def test_on_step_reports_progress_and_can_cancel():
    seen = []

    def on_step(progress):
        seen.append(progress["step"])
        return progress["step"] < 3
    table = train(SMALL, TrainingSpec(steps=10, eval_every=5), on_step=on_step)
    assert seen == [1, 2, 3] and table.attrs["stopped"] == "cancelled"
    assert table["step"].max() == 3


def test_a_stopped_run_returns_what_it_measured_and_says_so():
    """No exception carries the table: on_step returning False ends the run cleanly."""
    reports = []

    def on_step(progress):
        reports.append(progress)
        return progress["step"] < 4
    table = train(SMALL, TrainingSpec(steps=10, eval_every=5), on_step=on_step)
    assert table["step"].max() == 4 and table.attrs["stopped"] == "cancelled"
    assert table.attrs["steps_done"] == 4 and table.attrs["divergence"] is None
    dead = reports[-1]["dead_fractions"]  # every step so far, layer by layer
    assert dead.shape == (4, SMALL.depth)
    np.testing.assert_array_equal(dead, table.pivot(index="step", columns="layer",
                                                    values="dead_fraction").to_numpy())
    assert progress_text(reports[1]).startswith("step 2 / 10 · ")


# --- exact facts that catch wrong flags, layers and sentences ------------------------
# Variables of SMALL (depth 3): 3 hidden kernels + 3 biases + readout kernel and bias.
SMALL_VARIABLES = 2 * SMALL.depth + 2


@pytest.mark.parametrize("clipping", ["clipnorm", "clipvalue"])
def test_per_weight_clipping_flags_every_step_it_clips_and_no_other(clipping):
    lr = 0.1
    # float64: an update of 1e-8 is far below float32's resolution of weights near 0.3
    tiny = train(SMALL.replace(dtype="float64"), TrainingSpec(learning_rate=lr, steps=6, eval_every=6,
                                     **{clipping: 1e-7}))
    steps = per_step(tiny)
    assert steps["clipped"].all()  # every gradient is far above 1e-7
    if clipping == "clipnorm":
        # each variable's gradient rescaled to norm c: the whole update is lr c sqrt(8)
        np.testing.assert_allclose(steps["global_update_norm"],
                                   lr * 1e-7 * np.sqrt(SMALL_VARIABLES), rtol=1e-4)
    else:
        # every entry clipped to [-c, c]: the update is at most lr c per entry
        assert (steps["global_update_norm"] < lr * 1e-7 * np.sqrt(5000)).all()
    huge = per_step(train(SMALL, TrainingSpec(learning_rate=lr, steps=6, eval_every=6,
                                              **{clipping: 1e5})))
    assert not huge["clipped"].any()
    np.testing.assert_allclose(huge["global_update_norm"], lr * huge["global_grad_norm"],
                               rtol=1e-4)
    # and the Remedies table's "steps clipped" reads the flag
    assert summarize_run(tiny)["clipped_fraction"] == 1.0


def _rows(depth=5, **bad):
    """Per-layer rows of one step (LAYER_COLUMNS), all finite except `bad`."""
    from core.training import LAYER_COLUMNS
    rows = np.ones((depth, len(LAYER_COLUMNS)))
    for column, (layers, value) in bad.items():
        for layer in layers:
            rows[layer - 1, LAYER_COLUMNS.index(column)] = value
    return rows


FINE = np.array([2.3, 0.0, 0.1, 1.0, 0.1, 0.0])  # loss, l2, accuracy, ||g||, ||u||, clip


@pytest.mark.parametrize("scalars, rows, layer, where, value", [
    (FINE, _rows(activation_std=([3, 4, 5], np.inf),
                 signal_grad_norm=([1, 2, 3, 4, 5], np.inf)), 3, "activations (forward pass)",
     "inf"),
    (FINE, _rows(signal_grad_norm=([1, 2], np.nan)), 2, "gradients (backward pass)",
     "nan"),
    (FINE, _rows(signal_grad_norm=([1, 2, 3], np.inf), weight_grad_norm=([4], np.inf)),
     4, "gradients (backward pass)", "inf"),
    (FINE, _rows(weight_norm=([2, 5], np.inf)), 2, "weights (after this step's update)",
     "inf"),
    (np.array([np.inf, 0, 0.1, 1.0, 0.1, 0]), _rows(), None, "loss", "inf"),
    (np.array([2.3, 0, 0.1, np.nan, 0.1, 0]), _rows(), None, "gradients (readout)", "nan"),
])
def test_divergence_names_the_step_the_layer_and_the_value(scalars, rows, layer, where,
                                                           value):
    from core.training import _divergence
    found = _divergence(17, scalars, rows)
    assert (found["step"], found["layer"], found["where"], found["value"]) == (
        17, layer, where, value)
    at = f" at hidden layer {layer}" if layer else ""
    assert found["message"] == (f"diverged at step 17: {value} in the {where}{at}; "
                                f"training stopped, the steps before are kept")
    assert _divergence(17, FINE, _rows()) is None


def test_a_real_divergence_names_a_layer_that_is_broken_in_the_table():
    model = ModelSpec(depth=4, width=16, activation="linear", init="random_normal",
                      stddev=1.0)
    table = train(model, TrainingSpec(learning_rate=5.0, steps=50, eval_every=50))
    found = table.attrs["divergence"]
    last = table[table["step"] == found["step"]].set_index("layer")
    assert (table[table["step"] < found["step"]][["loss", "global_grad_norm"]]
            .apply(np.isfinite).all().all())
    if found["layer"] is not None:
        row = last.loc[found["layer"]]
        assert not np.isfinite(row[["signal_grad_norm", "weight_grad_norm", "weight_norm",
                                    "activation_std", "activation_mean"]].to_numpy(
            np.float64)).all()


def test_the_recorded_loss_is_keras_cross_entropy_plus_the_l2_penalty():
    """Step 1, recomputed by hand from the initial network: mean -log softmax(logits)[y]
    and l2 x the sum of squared kernels (the readout's too)."""
    from core import datasets
    from core.network import Network
    from core.training import batch_order, training_model_spec
    training = TrainingSpec(steps=1, batch_size=16, l2=0.01, eval_every=1, seed=4)
    table = train(SMALL, training)
    data = datasets.load(training.dataset, training.seed)
    spec = training_model_spec(SMALL, training, data.features)
    network = Network(spec, data.classes)
    batch = batch_order(len(data.y_train), 16, 1, training.seed)[0]
    logits = np.asarray(network.model(data.x_train[batch]), np.float64)
    log_softmax = logits - logits.max(1, keepdims=True)
    log_softmax -= np.log(np.exp(log_softmax).sum(1, keepdims=True))
    cross_entropy = -np.mean(log_softmax[np.arange(16), data.y_train[batch]])
    kernels = [np.asarray(k, np.float64) for k in network.kernels + [network.readout.kernel]]
    first = per_step(table).iloc[0]
    assert first["loss"] == pytest.approx(cross_entropy, rel=1e-5)
    assert first["logit_max"] == pytest.approx(np.abs(logits).max(), rel=1e-6)
    assert first["l2_penalty"] == pytest.approx(0.01 * sum(np.sum(k ** 2) for k in kernels),
                                                rel=1e-5)
    accuracy = np.mean(logits.argmax(1) == data.y_train[batch])
    assert first["batch_accuracy"] == accuracy
