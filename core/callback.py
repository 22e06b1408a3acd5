"""core.GradientFlowCallback: core.flow's table, recorded every N steps of `model.fit`.

    callback = GradientFlowCallback(x[:64], y[:64], every=50, csv_path="flow.csv")
    model.fit(x, y, epochs=3, callbacks=[callback])
    callback.table  # one row per (step, layer with weights)

Each record is one extra forward and backward pass on the fixed probe batch, outside
the training step, so it changes nothing in training (batch norm's moving statistics
are restored by core.flow). With `log_dir`, every layer's signal and weight-gradient
norms are also written as TensorBoard scalars (tf.summary), beside the user's logs.
"""
from __future__ import annotations

import pandas as pd

from .flow import flow, mse
from .tf_setup import keras, tf

RECORDED = ("signal_grad_norm", "weight_grad_norm")  # the TensorBoard scalars


def scalar(tag: str, value: float, step: int) -> None:
    """A TensorBoard scalar, as tf.summary.scalar writes it (the "scalars" plugin's
    metadata) but with TensorFlow's own tf.summary.write, so it works without the
    tensorboard package installed."""
    from tensorflow.core.framework import summary_pb2
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
    tf.summary.write(tag, tf.constant(float(value), tf.float32), step=step,
                     metadata=metadata.SerializeToString())


class GradientFlowCallback(keras.callbacks.Callback):
    """Record `flow(model, probe_inputs, probe_targets, loss)` every `every` training
    steps (and before the first), as `table`: core.flow's columns plus `step`."""

    def __init__(self, probe_inputs, probe_targets=None, every: int = 100, loss=None,
                 csv_path: str | None = None, log_dir: str | None = None):
        super().__init__()
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"every must be a whole number of steps >= 1 (got {every!r})")
        self.probe_inputs, self.probe_targets = probe_inputs, probe_targets
        self.every, self.loss = every, loss or mse
        self.csv_path, self.log_dir = csv_path, log_dir
        self.records: list[pd.DataFrame] = []
        self.step = 0
        self._writer = None

    @property
    def table(self) -> pd.DataFrame:
        return pd.concat(self.records, ignore_index=True) if self.records else \
            pd.DataFrame()

    def _record(self) -> None:
        table = flow(self.model, self.probe_inputs, self.probe_targets, self.loss)
        table.insert(0, "step", self.step)
        self.records.append(table)
        if self.log_dir is not None:
            if self._writer is None:
                self._writer = tf.summary.create_file_writer(self.log_dir)
            with self._writer.as_default():
                for _, row in table.iterrows():
                    for column in RECORDED:
                        scalar(f"{column}/{row['name']}", row[column], self.step)
                scalar("flow_loss", table.attrs["loss"], self.step)
            self._writer.flush()

    def on_train_begin(self, logs=None):
        if not self.records:
            self._record()

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every == 0:
            self._record()

    def on_train_end(self, logs=None):
        if self.csv_path is not None:
            self.table.to_csv(self.csv_path, index=False)
