"""core.experiments.loss_scaling: float32, mixed_float16 and LossScaleOptimizer on
Remedies' vanishing baseline, trained for real (short runs)."""
import numpy as np
import pytest

from core.experiments import loss_scaling
from core.training import TrainingSpec, batch_order, train

STEPS = 20


@pytest.fixture(scope="module")
def tables():
    from core.tf_setup import keras
    before = keras.config.dtype_policy().name
    tables = {label: train(model, training)
              for label, (model, training) in loss_scaling.runs(STEPS).items()}
    assert keras.config.dtype_policy().name == before == "float32"  # never the global one
    return tables


def test_the_three_runs_are_the_same_network_and_seed():
    runs = loss_scaling.runs()
    assert list(runs) == [loss_scaling.FLOAT32, loss_scaling.MIXED, loss_scaling.SCALED]
    models = {model for model, _ in runs.values()}
    assert len(models) == 1
    flags = [(t.mixed_precision, t.loss_scaling) for _, t in runs.values()]
    assert flags == [(False, False), (True, False), (True, True)]
    assert len({t.replace(mixed_precision=False, loss_scaling=False)
                for _, t in runs.values()}) == 1
    with pytest.raises(ValueError, match="loss_scaling needs mixed_precision"):
        TrainingSpec(loss_scaling=True)


def test_without_loss_scaling_the_first_layers_gradients_underflow_to_exactly_zero(tables):
    zeros = loss_scaling.zero_fractions(tables).pivot(index="layer", columns="run",
                                                     values="zero_grad_fraction_step_1")
    mixed, scaled, wide = (zeros[label] for label in (loss_scaling.MIXED,
                                                       loss_scaling.SCALED,
                                                       loss_scaling.FLOAT32))
    assert (mixed.loc[1:4] == 1.0).all()  # every entry 0: those layers cannot learn
    assert mixed.loc[8:].max() == 0.0  # the top layers' gradients are large enough
    assert (scaled.loc[2:] < 0.01).all() and scaled.loc[1] < 0.5  # loss scaling keeps them
    assert scaled.sum() < 0.2 * mixed.sum()
    # ...and the unscaled gradients are float32's, to float16's precision
    first = {label: table[table["step"] == 1]["weight_grad_norm"].to_numpy()
             for label, table in tables.items()}
    np.testing.assert_allclose(first[loss_scaling.SCALED], first[loss_scaling.FLOAT32],
                               rtol=2e-2)
    assert (first[loss_scaling.MIXED][:4] == 0).all()
    signal = tables[loss_scaling.SCALED].query("step == 1")["signal_grad_norm"]
    assert (signal > 0).all()  # unscaled in float32, not back into float16


def test_float32s_zeros_in_layer_1_are_blank_pixels_a_multiplication_by_zero(tables):
    """dLoss/dW_1[i, j] = sum over the batch of x_i g_j: exactly 0 where pixel i is 0 in
    every image of the batch. Exact."""
    from core import datasets
    data = datasets.load("digits", 0, "float32")
    batch = batch_order(len(data.y_train), 64, STEPS, 0)[0]
    blank = np.mean(np.all(data.x_train[batch] == 0, axis=0))
    table = tables[loss_scaling.FLOAT32]
    first = table[(table["step"] == 1) & (table["layer"] == 1)]["zero_grad_fraction"]
    assert float(first.iloc[0]) == pytest.approx(blank, abs=1e-12) and blank > 0.05


def test_loss_scales_and_the_facts(tables):
    scales = loss_scaling.loss_scales(tables)
    scaled = scales[scales["run"] == loss_scaling.SCALED]
    assert (scaled["loss_scale"] == 2.0 ** 15).all()  # no overflow: Keras keeps 2^15
    assert not scaled["overflowed"].any()
    assert (scales[scales["run"] != loss_scaling.SCALED]["loss_scale"] == 1.0).all()
    text = loss_scaling.facts(tables)
    assert "layers 1 to 4 had every gradient entry exactly 0" in text
    assert "5.96e-08" in text and "weights' gradients by zero (not underflow)" in text
    assert "scale 32,768 (2^15) at step 1" in text


def test_an_overflowing_step_is_skipped_and_the_scale_halved_not_a_divergence():
    from core.experiments.remedies import SCENARIOS
    _, model, training, _ = SCENARIOS["exploding"]  # ReLU, N(0, 0.3^2): big gradients
    table = train(model, training.replace(steps=4, mixed_precision=True,
                                          loss_scaling=True))
    steps = table.groupby("step").first()
    assert steps["loss_scale"].tolist() == [2.0 ** 15, 2.0 ** 14, 2.0 ** 13, 2.0 ** 12]
    assert not np.isfinite(steps["global_grad_norm"]).any()  # every one overflowed ...
    assert table.attrs["stopped"] is None  # ... and was skipped: the run goes on
    assert np.allclose(steps["global_update_norm"], 0.0)  # weights unchanged


def test_the_keras_code_shown_runs_and_prints_the_same_picture():
    """Plain Keras, its own draws: layers 1-4 all zeros in mixed_float16 alone, few with
    LossScaleOptimizer. Run in its own process, as a user would."""
    import os
    import subprocess
    import sys
    from conftest import ROOT
    done = subprocess.run([sys.executable, "-c", loss_scaling.keras_code(steps=10)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {line.rsplit(" ", 10)[0]: [float(v) for v in line.split()[-10:]]
            for line in done.stdout.splitlines()}
    assert list(rows) == [loss_scaling.FLOAT32, loss_scaling.MIXED, loss_scaling.SCALED]
    assert min(rows[loss_scaling.MIXED][:4]) >= 0.99
    assert max(rows[loss_scaling.SCALED][1:]) < 0.05 and rows[loss_scaling.SCALED][0] < 0.5
    assert "set_dtype_policy(" not in loss_scaling.keras_code().replace(
        "never keras.config.set_dtype_policy", "")
