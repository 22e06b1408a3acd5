"""core.GradientFlowCallback: core.flow recorded during model.fit."""
import numpy as np
import pandas as pd
import pytest

import core
from core.charts.flow import flow_heatmap
from core.flow import flow
from core.tf_setup import keras, tf


def small_model():
    inputs = keras.Input((6,))
    h = keras.layers.Dense(8, activation="relu", name="hidden",
                           kernel_initializer=keras.initializers.HeNormal(seed=1))(inputs)
    h = keras.layers.BatchNormalization(name="norm")(h)
    outputs = keras.layers.Dense(2, name="readout",
                                 kernel_initializer=keras.initializers.GlorotUniform(seed=2))(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def test_the_callback_records_every_n_steps_and_writes_csv_and_tensorboard(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 6)).astype("float32"), rng.normal(size=(64, 2))
    model = small_model()
    before = flow(model, x[:16], y[:16])
    callback = core.GradientFlowCallback(x[:16], y[:16], every=4,
                                         csv_path=str(tmp_path / "flow.csv"),
                                         log_dir=str(tmp_path / "logs"))
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False,
              callbacks=[callback])  # 16 steps: records at 0, 4, 8, 12, 16
    table = callback.table
    assert sorted(set(table["step"])) == [0, 4, 8, 12, 16]
    assert list(table[table["step"] == 0]["name"]) == ["hidden", "norm", "readout"]
    np.testing.assert_allclose(table[table["step"] == 0]["signal_grad_norm"],
                               before["signal_grad_norm"], rtol=1e-6)
    last = table[table["step"] == 16]
    np.testing.assert_allclose(last["signal_grad_norm"],
                               flow(model, x[:16], y[:16])["signal_grad_norm"], rtol=1e-5)
    assert not np.allclose(last["weight_grad_norm"], before["weight_grad_norm"])
    written = pd.read_csv(tmp_path / "flow.csv")
    assert len(written) == len(table)
    events = list((tmp_path / "logs").glob("events.out.tfevents.*"))
    assert events
    tags = {value.tag for event in tf.compat.v1.train.summary_iterator(str(events[0]))
            for value in event.summary.value}
    assert {"signal_grad_norm/hidden", "weight_grad_norm/readout", "flow_loss"} <= tags
    spec = flow_heatmap(table).to_dict()
    assert spec["layer"][0]["encoding"]["y"]["sort"] == "descending"


def test_every_must_be_a_positive_whole_number():
    with pytest.raises(ValueError, match="every"):
        core.GradientFlowCallback(np.zeros((2, 6)), every=0)
