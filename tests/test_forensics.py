"""core.forensics: runs that diverge for known reasons, and the report on each."""
import json
import math

import numpy as np
import pytest

from core import forensics
from core.experiments import activations, remedies
from core.experiments import through_time as recurrent
from core.spec import ModelSpec
from core.training import TrainingSpec, train

# A one-layer linear network at learning rate 10: its weights grow every step until the
# readout's logits overflow, while the hidden layer is still finite.
LOSS_OVERFLOW = (ModelSpec(depth=1, width=32, activation="linear", init="glorot_uniform"),
                 TrainingSpec(learning_rate=10.0, steps=20, eval_every=20))


@pytest.fixture(scope="module")
def exploding():
    """Remedies' exploding baseline (10 ReLU layers, N(0, 0.3²), SGD 0.05)."""
    model, training = remedies.scenario_runs("exploding", [], 0, 10)[remedies.BASELINE]
    return train(model, training)


def test_the_exploding_baseline_overflows_in_layer_2_at_step_4(exploding):
    found = forensics.report(exploding)
    assert (found["step"], found["layer"], found["quantity"], found["value"],
            found["cause"]) == (4, 2, "activation", "nan", "learning_rate")
    assert found["headline"] == ("First non-finite quantity: the activation (nan) at step "
                                 "4, hidden layer 2. Likely cause: learning rate × "
                                 "gradient norm.")
    # the lead-up: every finite step before it, per layer and per step, read from the table
    assert sorted(set(found["layers"]["step"])) == [1, 2, 3, 4]
    assert len(found["layers"]) == 4 * 10
    steps = found["steps"].set_index("step")
    assert np.isfinite(steps.loc[[1, 2, 3]].to_numpy(np.float64)).all()
    step_3 = exploding[exploding["step"] == 3]
    assert steps.loc[3, "largest_update_ratio"] == step_3["update_ratio"].max()
    assert steps.loc[3, "lr_times_grad_norm"] == pytest.approx(
        0.05 * step_3["global_grad_norm"].iloc[0])
    assert steps.loc[3, "largest_update_ratio"] > 1e20  # far beyond the weights
    assert "0.05 × 1.29e+29" in found["explanation"]
    assert [fix["label"] for fix in found["fixes"]] == ["learning rate 0.005",
                                                        "global_clipnorm = 1"]


def test_the_replays_with_the_suggested_fixes_do_not_diverge(exploding):
    found = forensics.report(exploding)
    runs = forensics.replay_runs(exploding, found["fixes"])
    assert list(runs) == ["replay: learning rate 0.005", "replay: global_clipnorm = 1"]
    for label, (model, training) in runs.items():
        assert training.seed == 0 and model.stddev == 0.3
        replay = train(model, training.replace(steps=60))
        assert replay.attrs["stopped"] is None, label
        assert np.isfinite(replay["loss"]).all()
        assert forensics.report(replay) is None
    # the same run without the fix diverges again, at the same step: a true replay
    model, training = runs["replay: learning rate 0.005"]
    again = train(model, training.replace(learning_rate=0.05))
    assert again.attrs["divergence"]["step"] == 4


def test_an_overflow_in_the_loss_is_named_with_the_logits():
    table = train(*LOSS_OVERFLOW)
    found = forensics.report(table)
    assert (found["step"], found["layer"], found["quantity"], found["cause"]) == (
        16, None, "loss", "loss_overflow")
    steps = found["steps"].set_index("step")
    # the hidden layer is finite at the step the loss is not; the logits overflowed
    at = table[table["step"] == 16]
    assert np.isfinite(at["activation_std"]).all() and not np.isfinite(at["loss"]).any()
    assert steps.loc[16, "logit_max"] == math.inf
    assert 1e30 < steps.loc[15, "logit_max"] < np.finfo(np.float32).max
    assert "reached 1.52e+36 at step 15 and inf at step 16" in found["explanation"]
    assert "log-sum-exp" in found["explanation"]


def test_a_large_learning_rate_with_saturating_units():
    """SELU at learning rate 1 on the Activations page: the update grows to 1e7 times
    the weights, and most of the last layer's units sit on SELU's flat tail."""
    model = activations.activation_experiment("selu", 0.01, 0)
    table = train(model, TrainingSpec(learning_rate=1.0, steps=10, eval_every=10))
    found = forensics.report(table)
    assert (found["step"], found["layer"], found["quantity"], found["cause"]) == (
        5, 6, "activation", "learning_rate")
    assert "72% of layer 6's units were saturated at step 4" in found["explanation"]


def test_an_initial_network_that_overflows_needs_no_replay():
    model = ModelSpec(depth=40, width=32, activation="linear", init="random_normal",
                      stddev=10.0)  # x 56 per layer
    found = forensics.report(train(model, TrainingSpec(steps=3, eval_every=3)))
    assert (found["step"], found["cause"], found["fixes"]) == (1, "initialization", [])
    assert "before any update" in found["explanation"]


def test_a_finished_run_has_no_report():
    model = ModelSpec(depth=2, width=8)
    assert forensics.report(train(model, TrainingSpec(steps=3, eval_every=3))) is None


def test_through_time_the_unclipped_run_is_reported_and_the_fix_holds():
    spec = recurrent.ClippingSpec(gain=2.5, learning_rate=1.0, train_steps=40)
    table = recurrent.train_clipping(spec)
    found = forensics.report(table)
    # the step is read from the recorded run: where exactly an explosion overflows
    # depends on float32 rounding (oneDNN on or off moved it from 14 to 19)
    unclipped = table[table["run"] == "without clipping"]
    first = int(unclipped.loc[~np.isfinite(unclipped["loss"]), "step"].iloc[0])
    assert 5 < first < spec.train_steps
    assert (found["kind"], found["step"], found["layer"], found["quantity"],
            found["value"]) == ("through_time", first, None, "loss", "inf")
    assert found["steps"]["step"].tolist() == list(range(first - 5, first + 1))
    assert "stays finite" in found["explanation"]  # the clipped run beside it
    assert found["fixes"] == [{"label": "learning rate 0.1",
                               "changes": {"learning_rate": 0.1}}]
    fixed = recurrent.train_clipping(spec.replace(**found["fixes"][0]["changes"]))
    assert forensics.report(fixed) is None


def test_text_and_json():
    found = forensics.report(train(*LOSS_OVERFLOW))
    lines = forensics.text(found).splitlines()
    assert lines[0] == found["headline"]
    assert "Suggested fix: learning rate 0.5" in lines
    assert any("Update-to-weight ratio" in line for line in lines)
    plain = forensics.to_json(found)
    assert json.loads(json.dumps(plain, allow_nan=False)) == plain
    assert plain["steps"][-1]["loss"] == "nan" and plain["layer"] is None
    assert forensics.to_json(None) is None


@pytest.mark.parametrize("value, expected", [(0.0061, 0.005), (0.5, 0.5), (0.0999, 0.05),
                                             (3.0, 2.0), (1.0, 1.0)])
def test_nice_floor(value, expected):
    assert forensics.nice_floor(value) == pytest.approx(expected)


def test_adam_diverges_where_its_running_mean_of_g_squared_overflows():
    """A deep linear network under Adam: its updates stay a fraction of the weights, but
    the gradient through 20 layers explodes past 1.8e19 and Adam's g² overflows."""
    model = ModelSpec(depth=20, width=32, activation="linear", init="glorot_uniform")
    table = train(model, TrainingSpec(optimizer="adam", learning_rate=1.0, steps=10,
                                      eval_every=10))
    found = forensics.report(table)
    assert (found["step"], found["layer"], found["quantity"], found["cause"]) == (
        4, 1, "weight", "adam_second_moment")
    steps = found["steps"].set_index("step")
    assert forensics.SQUARE_OVERFLOWS < steps.loc[4, "global_grad_norm"] < math.inf
    assert steps.loc[3, "largest_update_ratio"] < 1  # not an overshooting step
    last = table[table["step"] == 3].iloc[0]
    assert f"‖ΔW‖ = {forensics._n(last['global_update_norm'])} (adam" in found["explanation"]
    replays = forensics.replay_runs(table, found["fixes"])
    assert train(*replays["replay: learning rate 0.01"]).attrs["stopped"] is None
    # Clipping cannot help here: Keras' global norm squares in float32, overflows, and
    # Keras makes the clipped gradient nan on purpose; the replay's report says so.
    clipped = forensics.report(train(*replays["replay: global_clipnorm = 1"]))
    assert (clipped["quantity"], clipped["cause"]) == ("weight", "clip_overflow")
    assert "Keras' global_clipnorm sums the squared entries" in clipped["explanation"]
