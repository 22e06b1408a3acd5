"""The training engine: specs, data, exact clipping, dying ReLU, divergence, CLI."""
import io
import json
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest

from core import datasets
from core.cli import main
from core.spec import ModelSpec
from core.training import (COLUMNS, MAX_TRAINING_WORK, TrainingSpec, check_budget,
                           summarize, train)

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


@pytest.mark.parametrize("name", datasets.DATASETS)
def test_datasets_are_deterministic_stratified_splits(name):
    data = datasets.load(name, seed=3)
    again = datasets.load(name, seed=3)
    np.testing.assert_array_equal(data.x_train, again.x_train)
    total = len(data.y_train) + len(data.y_test)
    assert abs(len(data.y_test) / total - datasets.TEST_FRACTION) < 0.01
    assert data.classes == (10 if name == "digits" else 2)
    assert set(np.unique(data.y_test)) == set(range(data.classes))
    if name == "digits":
        assert total == 1797 and data.features == 64 and data.x_train.max() <= 1.0


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
    relu = summarize(train(model, spec))
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
    assert summarize(table)["diverged_step"] == divergence["step"]


def test_on_step_reports_progress_and_can_cancel():
    seen = []

    def on_step(progress):
        seen.append(progress["step"])
        return progress["step"] < 3
    table = train(SMALL, TrainingSpec(steps=10, eval_every=5), on_step=on_step)
    assert seen == [1, 2, 3] and table.attrs["stopped"] == "cancelled"
    assert table["step"].max() == 3


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(["train", *argv])
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv, flag", [
    (["--learning-rate", "fast"], "--learning-rate"), (["--optimizer", "rmsprop"],
                                                       "--optimizer"),
    (["--dataset", "mnist"], "--dataset"), (["--depth", "0"], "--depth"),
    (["--clipnorm", "1", "--clipvalue", "1"], "only one of"),
    (["--steps", "5000", "--depth", "200", "--width", "1024"], "budget")])
def test_cli_bad_flags_exit_2_with_one_line(argv, flag):
    status, out, err = run_cli(*argv)
    assert status == 2 and out == ""
    assert flag in err and len(err.strip().splitlines()) == 1


def test_cli_train_prints_the_long_table():
    status, out, err = run_cli("--depth", "2", "--width", "8", "--steps", "3",
                               "--dataset", "moons", "--optimizer", "adam", "--format",
                               "json")
    assert status == 0, err
    records = json.loads(out)
    assert len(records) == 6 and set(COLUMNS) <= set(records[0])


def test_chart_builders_keep_nan_visible_and_draw_the_guide_line():
    import pandas as pd

    from core.charts import training as charts
    table = pd.DataFrame({"step": np.repeat([1, 2, 3], 2), "layer": np.tile([1, 2], 3),
                          "loss": np.repeat([2.0, 1.0, np.nan], 2),
                          "test_accuracy": np.repeat([0.1, np.nan, 0.5], 2),
                          "update_ratio": [1e-2, 1e-4, 1e-3, 0.0, np.inf, np.nan],
                          "weight_grad_norm": [1.0, 1e-8, 0.0, np.inf, np.nan, 1.0],
                          "weight_norm": [1.0, 1.0, 1.0, 1.0, np.nan, 1.0],
                          "dead_fraction": [0.0, 0.5, 0.25, 1.0, 0.0, 0.0]})
    heat = charts.layer_step_heatmap(table, "weight_grad_norm", title="t", legend="l",
                                     log10=True).to_dict()
    rows = next(iter(heat["datasets"].values()))
    assert sorted(r["status"] for r in rows).count("finite") == 3
    assert {"zero", "overflow (inf)", "not a number (nan)"} <= {r["status"] for r in rows}
    ratio = charts.update_ratio_chart(table, "u").to_dict()
    guide = [d for d in ratio["datasets"].values() if len(d) == 1 and "label" in d[0]]
    assert guide and guide[0][0]["plotted"] == 1e-3
    loss = next(iter(charts.loss_chart({"run": table}).to_dict()["datasets"].values()))
    assert [r["status"] for r in loss] == ["finite", "finite", "not a number (nan)"]
    norms = next(iter(charts.weight_norm_chart({"run": table}).to_dict()["datasets"].values()))
    assert norms[-1]["exact"] == "nan"  # not silently 0
    binned = charts.bin_steps(pd.concat([table.assign(step=table["step"] + 3 * k)
                                         for k in range(100)]), ["dead_fraction"],
                              max_steps=30)
    assert binned["bin"].nunique() <= 30


def test_activation_curves_are_keras_functions_and_their_autodiff_slopes():
    from core.activations import activation_curves
    from core.training import curve_facts, keras_leaky_relu_defaults
    curves = activation_curves(["sigmoid", "relu", "leaky_relu"], negative_slope=0.1,
                               points=101)
    sigmoid = curves[curves["activation"] == "sigmoid"]
    value = sigmoid["value"].to_numpy()
    np.testing.assert_allclose(sigmoid["slope"], value * (1 - value), atol=1e-12)
    leaky = curves[curves["activation"] == "leaky_relu"]
    assert leaky["slope"].iloc[0] == pytest.approx(0.1)
    facts = curve_facts(curves).set_index("activation")
    assert facts.loc["sigmoid", "peak slope"] == pytest.approx(0.25)
    assert facts.loc["relu", "slope exactly 0 for"] == "z <= 0"
    assert keras_leaky_relu_defaults() == {"keras.layers.LeakyReLU": 0.3,
                                           "keras.activations.leaky_relu": 0.2}


def test_an_interrupted_run_hands_back_what_it_measured():
    class Interrupt(BaseException):
        pass

    def on_step(progress):
        if progress["step"] == 4:
            raise Interrupt
    with pytest.raises(Interrupt) as caught:
        train(SMALL, TrainingSpec(steps=10, eval_every=5), on_step=on_step)
    partial = caught.value.partial_result
    assert partial["step"].max() == 4 and partial.attrs["stopped"] == "interrupted"


def test_the_activations_page_float32_claims_about_the_left_tail():
    """The page says: ELU/SELU never output 0 but their float32 slope is 0 below about
    z = -17; GELU's output rounds to 0 below about -13.5, swish's only below about -87."""
    from core.tf_setup import keras, tf
    z = tf.constant([-13.0, -16.0, -18.0, -86.0, -88.0], tf.float32)
    values, slopes = {}, {}
    for name in ("elu", "selu", "gelu", "swish"):
        with tf.GradientTape() as tape:
            tape.watch(z)
            a = getattr(keras.activations, name)(z)
        values[name], slopes[name] = a.numpy(), tape.gradient(a, z).numpy()
    for name in ("elu", "selu"):
        assert (values[name] < -0.9).all()
        assert slopes[name][0] > 0 and slopes[name][2] == 0
    assert values["gelu"][0] != 0 and values["gelu"][1] == 0
    assert (values["swish"][:4] != 0).all() and values["swish"][4] == 0


def _toy_run(losses, grads, steps=4, depth=2):
    import pandas as pd
    return pd.DataFrame({"step": np.repeat(np.arange(1, steps + 1), depth),
                         "layer": np.tile(np.arange(1, depth + 1), steps),
                         "loss": np.repeat(losses, depth),
                         "test_accuracy": np.repeat([0.1] * steps, depth),
                         "update_ratio": np.full(steps * depth, 1e-3),
                         "weight_grad_norm": grads})


def test_paired_heatmaps_share_one_colour_domain_from_finite_cells():
    from core.charts import training as charts
    small = _toy_run([2.0] * 4, [1e-8, 1e-6, 1e-5, 1e-4, 0.0, 1e-3, np.nan, 1e-2])
    large = _toy_run([2.0] * 4, [1.0, 10.0, np.inf, 1e30, 1e2, 1e3, 1e4, 1e5])
    domain = charts.shared_domain([small, large], "weight_grad_norm", log10=True)
    assert domain == pytest.approx([-8.0, 30.0])
    for table, black in ((small, 2), (large, 1)):
        spec = charts.layer_step_heatmap(table, "weight_grad_norm", title="t", legend="l",
                                         log10=True, domain=domain).to_dict()
        scales = [layer["encoding"]["color"]["scale"] for layer in spec["layer"]
                  if "color" in layer["encoding"] and "field" in layer["encoding"]["color"]]
        assert scales and all(s["domain"] == pytest.approx([-8.0, 30.0]) for s in scales)
        rows = next(iter(spec["datasets"].values()))
        assert sum(r["status"] != "finite" for r in rows) == black  # 0, nan, inf: black


def test_a_diverged_loss_is_capped_and_marked_not_stretching_the_axis():
    from core.charts import training as charts
    healthy = _toy_run([2.3, 1.5, 1.0, 0.5], np.ones(8))
    diverged = _toy_run([2.4, 50.0, 1e14, 1e35], np.ones(8))
    cap = charts.loss_cap({"a": healthy, "b": diverged})
    assert cap == 1e4  # 1e3 x the largest initial loss (2.4), up to a power of ten
    spec = charts.loss_chart({"a": healthy, "b": diverged}).to_dict()
    rows = next(iter(spec["datasets"].values()))
    above = [r for r in rows if r["status"] == charts.ABOVE]
    assert [r["exact"] for r in above] == ["1e+14", "1e+35"]
    assert all(r["plotted"] == cap for r in above)
    y_scales = [layer["encoding"]["y"]["scale"] for layer in spec["layer"]]
    assert all(scale["domain"][1] == cap for scale in y_scales)
    assert "▲" in " ".join(spec["title"]["subtitle"])
    # Nothing above the cap: no marker, no note.
    plain = charts.loss_chart({"a": healthy}).to_dict()
    assert not any(r["status"] == charts.ABOVE for r in next(iter(
        plain["datasets"].values())))


def test_step_and_layer_axes_have_integer_ticks_and_legends_have_room():
    from core.charts import training as charts
    run = _toy_run([2.0, np.nan, 1.0, 1.0], [1.0] * 8)
    run["update_ratio"] = [1e-3, 0.0, np.nan, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3]
    ratio = charts.update_ratio_chart(run, "u").to_dict()
    x_axes = [layer["encoding"]["x"]["axis"] for layer in ratio["layer"]
              if "axis" in layer["encoding"].get("x", {})]
    assert x_axes and all(a["format"] == "d" and a["tickMinStep"] == 1 for a in x_axes)
    shape = next(layer["encoding"]["shape"] for layer in ratio["layer"]
                 if "shape" in layer["encoding"])
    assert shape["scale"]["domain"] == ["not a number (nan)", "underflow (0)"]
    assert shape["legend"]["orient"] == "bottom" and shape["legend"]["labelLimit"] == 0
    assert ratio["height"] > 280
    healthy = charts.update_ratio_chart(run.assign(update_ratio=1e-3), "u").to_dict()
    assert next(layer["encoding"]["shape"] for layer in healthy["layer"]
                if "shape" in layer["encoding"])["legend"] is None
    for chart in (charts.loss_chart({"r": run}), charts.accuracy_chart({"r": run}),
                  charts.layer_step_heatmap(run, "update_ratio", title="t", legend="l")):
        spec = json.dumps(chart.to_dict())
        assert '"tickMinStep": 1' in spec and '"format": "d"' in spec
    many = {f"run {k}": run for k in range(7)}
    for chart in (charts.accuracy_chart(many), charts.loss_chart(many)):
        assert chart.to_dict()["height"] >= 100 + 30 * 7  # room for 7 legend entries


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
    assert summarize(tiny)["clipped_fraction"] == 1.0


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
    from core.training import outcome
    assert outcome(result, classes=10) == text


def test_remedy_outcome_uses_the_number_of_classes():
    from core.training import outcome
    result = dict(diverged_step=None, final_test_accuracy=0.45, recent_batch_accuracy=0.45)
    assert outcome(result, classes=10) == "learned (45% on test)"
    assert outcome(result, classes=2) == "did not learn (chance is 50%)"
