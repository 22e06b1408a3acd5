"""core.experiments.activations: the curves' facts, the page's claims, the runs."""
import numpy as np
import pandas as pd
import pytest

from core.experiments import activations


def test_activation_curves_are_keras_functions_and_their_autodiff_slopes():
    from core.activations import activation_curves
    from core.experiments.activations import curve_facts, keras_leaky_relu_defaults
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


def test_the_curves_view_reads_its_numbers_off_the_curves():
    view = activations.curves(0.01)
    facts = view["facts"].set_index("activation")
    assert list(facts.index) == list(activations.ACTIVATION_CHOICES)
    assert "grid of 401 points from z = -5 to 5" in view["caption"]
    assert f"it is {facts.loc['elu', 'slope at z = -5']:.2g} (ELU)" in view["notes"]
    assert "`keras.layers.LeakyReLU` uses 0.3" in view["notes"]
    assert facts.loc["relu", "saturated (slope < 5% of peak) for"] == activations.NOT_COUNTED


def test_planned_runs_and_their_labels():
    rates = activations.planned_runs("rates", "leaky_relu", 0.5, 0.05, seed=2, steps=100)
    assert list(rates) == [f"leaky_relu (0.05), lr {rate:g}, seed 2"
                           for rate in activations.DYING_RELU_RATES]
    model, training = rates["leaky_relu (0.05), lr 1, seed 2"]
    assert model.init == "he_normal" and training.steps == 100 and training.seed == 2
    every = activations.planned_runs("every", "relu", 0.1, 0.01, seed=0, steps=300)
    assert [model.activation for model, _ in every.values()] == list(
        activations.ACTIVATION_CHOICES)
    assert every["selu, lr 0.1, seed 0"][0].init == "lecun_normal"
    assert activations.trained_network("tanh", 0.01, 4).input_dim == 64


def test_a_session_keeps_its_last_runs_newest_last():
    runs = {}
    for number in range(activations.KEPT_RUNS + 2):
        activations.keep_run(runs, f"run {number}", pd.DataFrame())
    activations.keep_run(runs, "run 5", pd.DataFrame())
    assert len(runs) == activations.KEPT_RUNS
    assert list(runs)[0] == "run 2" and list(runs)[-1] == "run 5"


def test_dead_units_so_far_and_the_summary_table():
    live = activations.dead_so_far(np.array([[0.0, 0.5], [0.25, 1.0]]))
    assert live.to_dict("list") == {"step": [1, 1, 2, 2], "layer": [1, 2, 1, 2],
                                    "dead_fraction": [0.0, 0.5, 0.25, 1.0]}
    table = live.assign(loss=2.0, test_accuracy=[0.1, 0.1, 0.3, 0.3], batch_accuracy=0.2,
                        clipped=False, weight_grad_norm=1.0, signal_grad_norm=1.0)
    summary = activations.dying_relu_summary({"relu": table})
    assert list(summary.columns) == list(activations.DYING_COLUMNS.values())
    row = summary.iloc[0]
    assert (row["dead at step 1"], row["dead at the end"], row["most dead"]) == (
        0.25, 0.625, 0.625)
    assert row["test accuracy"] == 0.3 and row["steps done"] == 2
    assert pd.isna(row["diverged at step"])
