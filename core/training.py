"""core.train(model_spec, training_spec): train a Keras network, recording every layer.

The network and its optimizer are core.network's. A custom training loop (one
tf.function per run, traced here, never in a page) takes each step with tf.GradientTape
and the Keras optimizer, and measures at the same time, per hidden layer: the weight
gradient, the back-propagated signal dLoss/dh_l, the update-to-weight ratio, the weight
norm and the dead and saturated fractions (definitions as in core.per_layer). Per step:
the gradient norm over all weights before clipping, the norm of the whole update,
whether the optimizer clipped, and the largest |logit| of the batch (what the loss's
softmax exponentiates; core.forensics reads it when a run diverges).

A run ends after its steps, when it diverges (inf or nan), or when `on_step` returns
False; the table's attrs say which (`stopped`: None, "diverged" or "cancelled").

TrainingSpec, like ModelSpec, is frozen and validated: every default and bound is here.
This module imports TensorFlow only inside `train`, so the CLI validates flags first.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .datasets import DATASETS
from .spec import ModelSpec, Spec, spec_field

OPTIMIZERS = ("sgd", "momentum", "adam")
CLIPPINGS = ("clipnorm", "clipvalue", "global_clipnorm")  # Keras' optimizer arguments
# Training work budget: forward multiply-adds per example x batch size x steps
# (depth x width^2 x batch x steps). 2**34 is about 10 s on two shared cores.
MAX_TRAINING_WORK = 2 ** 34
# XLA for the training step: off, measured slower here for 20 x 64 over 300 steps
# (tracing 2.4 s instead of 1.25 s, saving only 0.7 ms a step).
JIT = False

# The network trained by default: the dying-ReLU experiment of the Activations page.
DEFAULT_MODEL = ModelSpec(depth=6, width=32, activation="relu", init="he_normal")
# ModelSpec fields that training sets itself (from the data set and the TrainingSpec).
MODEL_FIELDS_SET_BY_TRAINING = ("batch_size", "input_dim", "input_std", "seed")

LAYER_COLUMNS = ["weight_grad_norm", "signal_grad_norm", "update_ratio", "weight_norm",
                 "dead_fraction", "saturated_fraction", "activation_mean",
                 "activation_std", "zero_grad_fraction"]
# loss_scale: the factor the loss was multiplied by in this step (1 without loss scaling)
STEP_COLUMNS = ["loss", "l2_penalty", "batch_accuracy", "train_accuracy", "test_accuracy",
                "global_grad_norm", "global_update_norm", "clipped", "logit_max",
                "loss_scale"]
COLUMNS = ["step", "layer"] + STEP_COLUMNS + LAYER_COLUMNS
# The step's own scalars, in STEP_COLUMNS' positions (train/test accuracy come later).
MEASURED_EVERY_STEP = [0, 1, 2, 5, 6, 7, 8, 9]
# mixed_precision: every hidden layer gets this dtype policy, passed to the layer (the
# global policy is never set: one process serves every session); the readout stays float32.
MIXED_POLICY = "mixed_float16"


_f = spec_field


@dataclass(frozen=True)
class TrainingSpec(Spec):
    """How to train: data, optimizer, steps, clipping and L2. Clipping 0 means off."""
    dataset: str = _f("digits", "training data", choices=DATASETS, kind=str)
    optimizer: str = _f("sgd", "sgd (plain), momentum (SGD with momentum 0.9) or adam",
                        choices=OPTIMIZERS, kind=str)
    learning_rate: float = _f(0.05, "learning rate", low=0.0, high=10.0, kind=float,
                              open_low=True)
    steps: int = _f(300, "training steps (one batch each)", low=1, high=5000, kind=int)
    batch_size: int = _f(64, "examples per step", low=1, high=1024, kind=int)
    clipnorm: float = _f(0.0, "clip each weight's gradient to this norm (0 = off)",
                         low=0.0, high=1e6, kind=float)
    clipvalue: float = _f(0.0, "clip every gradient entry to [-c, c] (0 = off)",
                          low=0.0, high=1e6, kind=float)
    global_clipnorm: float = _f(0.0, "clip the gradient of all weights together to this "
                                "norm (0 = off)", low=0.0, high=1e6, kind=float)
    l2: float = _f(0.0, "L2 penalty l2 x sum of squared kernel weights (0 = off)",
                   low=0.0, high=1.0, kind=float)
    eval_every: int = _f(10, "measure train and test accuracy every this many steps",
                         low=1, high=5000, kind=int)
    seed: int = _f(0, "random seed for the weights, the split and the batch order",
                   low=0, high=2 ** 31 - 1, kind=int)
    mixed_precision: bool = _f(False, "hidden layers compute in float16 with float32 weights "
                               "(Keras' mixed_float16 policy, per layer)", kind=bool)
    loss_scaling: bool = _f(False, "wrap the optimizer in keras.optimizers."
                            "LossScaleOptimizer (dynamic loss scale; needs mixed_precision)",
                            kind=bool)

    def __post_init__(self):
        super().__post_init__()
        clipping = [name for name in CLIPPINGS if getattr(self, name) > 0]
        if len(clipping) > 1:
            raise ValueError(f"only one of clipnorm, clipvalue and global_clipnorm may be "
                             f"set (Keras allows one); got {' and '.join(clipping)}")
        if self.loss_scaling and not self.mixed_precision:
            raise ValueError("loss_scaling needs mixed_precision (a float32 network has no "
                             "float16 gradients to protect)")

    @property
    def clipping(self) -> str | None:
        return next((name for name in CLIPPINGS if getattr(self, name) > 0), None)


def training_model_spec(model_spec: ModelSpec, training_spec: TrainingSpec,
                        features: int) -> ModelSpec:
    """The model spec as trained: input size from the data, seed from the training."""
    return model_spec.replace(input_dim=features, seed=training_spec.seed,
                              batch_size=training_spec.batch_size, input_std=1.0)


def check_budget(model_spec: ModelSpec, training_spec: TrainingSpec,
                 features: int = 64) -> int:
    """Forward multiply-adds of the whole run; ValueError if over MAX_TRAINING_WORK, or
    if mixed precision is asked of a model that is not float32."""
    if training_spec.mixed_precision and model_spec.dtype != "float32":
        raise ValueError(f"mixed_precision keeps float32 weights: the model's dtype must be "
                         f"float32 (got {model_spec.dtype})")
    width_in = max(model_spec.width, features)
    work = model_spec.depth * model_spec.width * width_in * training_spec.batch_size * \
        training_spec.steps
    if work > MAX_TRAINING_WORK:
        raise ValueError(
            f"depth x width^2 x batch_size x steps = {work:.3g} is over the training "
            f"budget of {MAX_TRAINING_WORK:.3g}: reduce depth, width, batch_size or steps")
    return work


def progress_text(progress: dict) -> str:
    """'step 120 / 300 · 1.8 s elapsed · about 2.7 s left' from an on_step report."""
    step, steps, seconds = progress["step"], progress["steps"], progress["seconds"]
    left = seconds / step * (steps - step)
    return f"step {step} / {steps} · {seconds:.1f} s elapsed · about {left:.1f} s left"


def train(model_spec: ModelSpec, training_spec: TrainingSpec, on_step=None) -> pd.DataFrame:
    """Train and return the long table: one row per step x hidden layer (COLUMNS).

    `on_step(progress)` is called after every step with step, steps, seconds, loss,
    dead_fraction (per layer), dead_fractions (steps so far x layers)
    and test_accuracy; returning False stops the run there.
    attrs: stopped (None, "diverged" or "cancelled"), divergence (where inf or nan first
    appeared, or None), steps_done, seconds, model_spec and training_spec (as trained),
    classes, train_size, test_size, residual_scales (each skip's scale at the end: learned
    from 0 when residual_scale is 0).
    """
    from . import datasets
    from .network import Network, make_optimizer
    if not isinstance(model_spec, ModelSpec) or not isinstance(training_spec, TrainingSpec):
        raise TypeError("train() takes a core.ModelSpec and a core.training.TrainingSpec")
    started = time.perf_counter()
    data = datasets.load(training_spec.dataset, training_spec.seed, model_spec.dtype)
    spec = training_model_spec(model_spec, training_spec, data.features)
    check_budget(spec, training_spec, data.features)
    network = Network(spec, data.classes, training_spec.l2,
                      MIXED_POLICY if training_spec.mixed_precision else None)
    step_fn, accuracy_fn = _build_step(network, make_optimizer(training_spec),
                                       training_spec)
    order = batch_order(len(data.y_train), training_spec.batch_size, training_spec.steps,
                        training_spec.seed)
    steps = training_spec.steps
    scalars_all = np.full((steps, len(STEP_COLUMNS)), np.nan)
    rows_all = np.full((steps, spec.depth, len(LAYER_COLUMNS)), np.nan)
    divergence, stopped, done = None, None, 0
    for index in range(steps):
        batch = order[index]
        scalars, rows = step_fn(data.x_train[batch], data.y_train[batch])
        scalars, rows = scalars.numpy(), rows.numpy()
        done = step = index + 1
        scalars_all[index, MEASURED_EVERY_STEP] = scalars
        rows_all[index] = rows
        divergence = _divergence(step, scalars, rows)
        if divergence and training_spec.loss_scaling and np.isfinite(scalars[0]) and \
                np.isfinite(rows[:, 3]).all():
            divergence = None  # scaled gradients overflowed: Keras skipped this step
        if divergence is None and (step % training_spec.eval_every == 0 or step == steps
                                   or step == 1):
            scalars_all[index, 3] = float(accuracy_fn(data.x_train, data.y_train))
            scalars_all[index, 4] = float(accuracy_fn(data.x_test, data.y_test))
        if on_step is not None and on_step(
                {"step": step, "steps": steps, "seconds": time.perf_counter() - started,
                 "loss": scalars[0], "dead_fraction": rows[:, 4].copy(),
                 "dead_fractions": rows_all[:step, :, 4],
                 "test_accuracy": scalars_all[index, 4]}) is False:
            stopped = "cancelled"
            break
        if divergence is not None:
            stopped = "diverged"
            break
    table = _long_table(scalars_all[:done], rows_all[:done])
    table.attrs.update(divergence=divergence, stopped=stopped, steps_done=done,
                       seconds=time.perf_counter() - started, model_spec=spec.to_dict(),
                       training_spec=training_spec.to_dict(), classes=data.classes,
                       train_size=len(data.y_train), test_size=len(data.y_test),
                       residual_scales=network.stack.scales())
    return table


# --- the traced step (TensorFlow from here on) ------------------------------------------
def _squares(tensors, axes=None):
    """Sum of squares in float64: of one tensor, or per layer of a stack."""
    from .tf_setup import tf
    return tf.reduce_sum(tf.square(tf.cast(tensors, tf.float64)), axis=axes)


def _unit_stats(spec: ModelSpec):
    """z (depth, batch, width) -> (dead fraction, saturated fraction) per layer."""
    from .activations import activation_fn, peak_slope, saturates
    from .per_layer import unit_fractions
    from .tf_setup import tf
    phi = activation_fn(spec.activation)
    saturating, peak = saturates(spec.activation), peak_slope(spec.activation)
    slope_value = tf.constant(spec.negative_slope, spec.dtype)

    def unit_stats(z):
        z = tf.cast(tf.stop_gradient(z), spec.dtype)  # mixed precision: float16 z
        with tf.GradientTape() as inner:
            inner.watch(z)
            a = phi(z, slope_value)
        slope = inner.gradient(a, z)
        return unit_fractions(a, slope, z, saturating, peak, tf.float64)
    return unit_stats


def _clipped(training_spec: TrainingSpec):
    """(per-variable gradients, their sums of squares, global norm) -> did Keras clip."""
    from .tf_setup import tf
    clipping = training_spec.clipping
    threshold = getattr(training_spec, clipping) if clipping else 0.0

    def clipped(var_grads, grad_squares, global_grad_norm):
        if clipping == "global_clipnorm":
            return global_grad_norm > threshold
        if clipping == "clipnorm":
            return tf.reduce_any(tf.sqrt(grad_squares) > threshold)
        if clipping == "clipvalue":
            return tf.reduce_any(tf.stack([tf.reduce_max(tf.abs(g)) for g in var_grads])
                                 > threshold)
        return tf.constant(False)
    return clipped


def _accuracy(logits, y):
    """Keras' sparse categorical accuracy, averaged in float64."""
    from .tf_setup import keras, tf
    return tf.reduce_mean(tf.cast(keras.metrics.sparse_categorical_accuracy(y, logits),
                                  tf.float64))


def _build_step(network, optimizer, training_spec: TrainingSpec):
    """(step, accuracy): one traced training step that also measures every layer, and
    the accuracy of the network in inference mode (both tf.functions).

    The per-layer measurements are vectorized over layers (hidden layers all have the
    same width), so their cost, and the tracing time, hardly grow with depth. Norms are
    taken in float64, so that float32 gradients up to ~1e150 do not overflow.
    """
    from .tf_setup import keras, tf
    spec = network.spec
    dtype = spec.dtype
    unit_stats, clipped = _unit_stats(spec), _clipped(training_spec)
    variables = list(network.model.trainable_variables)
    kernel_index = [next(i for i, v in enumerate(variables) if v is kernel)
                    for kernel in network.kernels]
    batch_signature = [tf.TensorSpec([None, spec.n_in], dtype),
                       tf.TensorSpec([None], tf.int32)]
    if training_spec.loss_scaling:  # built now, so the graph reads its dynamic scale
        optimizer.build(variables)

    @tf.function(input_signature=batch_signature, jit_compile=JIT)
    def step(x, y):
        # LossScaleOptimizer: the loss times its dynamic scale is differentiated (so
        # float16 gradients are that much larger); measured gradients are unscaled.
        scale = tf.identity(optimizer.dynamic_scale) if training_spec.loss_scaling \
            else tf.constant(1.0)
        with tf.GradientTape() as tape:
            logits, zs, hs = network.forward(x, training=True)
            data_loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
                y, logits, from_logits=True))
            # the kernels' keras.regularizers.L2 terms (none when l2 is 0)
            penalties = network.model.losses
            penalty = tf.add_n(penalties) if penalties else tf.zeros([], dtype)
            loss = data_loss + penalty
            scaled = optimizer.scale_loss(loss) if training_spec.loss_scaling else loss
        grads = tape.gradient(scaled, variables + hs)
        applied = grads[:len(variables)]  # as the optimizer takes them (scaled)
        zero_grad = tf.stack([tf.reduce_mean(tf.cast(tf.equal(applied[i], 0), tf.float64))
                              for i in kernel_index])
        if training_spec.loss_scaling:  # in float32: a float16 signal / 2^15 would underflow
            grads = [tf.cast(g, tf.float32) / scale for g in grads]
        var_grads, signal_grads = grads[:len(variables)], grads[len(variables):]
        grad_squares = tf.stack([_squares(g) for g in var_grads])
        global_grad_norm = tf.sqrt(tf.reduce_sum(grad_squares))
        was_clipped = clipped(var_grads, grad_squares, global_grad_norm)
        old = [tf.identity(v) for v in variables]
        optimizer.apply(applied, variables)
        # Per-variable sums of squares, each computed once and shared by every norm.
        update_squares = tf.stack([_squares(v - o) for v, o in zip(variables, old)])
        global_update_norm = tf.sqrt(tf.reduce_sum(update_squares))
        old_kernel_norm = tf.sqrt(tf.stack([_squares(old[i]) for i in kernel_index]))
        weight_norm = tf.sqrt(tf.stack([_squares(variables[i]) for i in kernel_index]))
        update_ratio = tf.sqrt(tf.gather(update_squares, kernel_index)) / old_kernel_norm
        weight_grad = tf.sqrt(tf.gather(grad_squares, kernel_index))
        signal = tf.sqrt(_squares(tf.stack(signal_grads), [1, 2]))
        dead, saturated = unit_stats(tf.stack(zs))
        hidden = tf.cast(tf.stop_gradient(tf.stack(hs)), tf.float64)
        rows = tf.stack([weight_grad, signal, update_ratio, weight_norm, dead, saturated,
                         tf.reduce_mean(hidden, [1, 2]), tf.math.reduce_std(hidden, [1, 2]),
                         zero_grad], axis=1)
        scalars = tf.stack([tf.cast(data_loss, tf.float64), tf.cast(penalty, tf.float64),
                            _accuracy(logits, y), global_grad_norm, global_update_norm,
                            tf.cast(was_clipped, tf.float64),
                            tf.reduce_max(tf.abs(tf.cast(logits, tf.float64))),
                            tf.cast(scale, tf.float64)])
        return scalars, rows

    @tf.function(input_signature=batch_signature)
    def accuracy(x, y):
        logits, _, _ = network.forward(x, training=False)
        return _accuracy(logits, y)

    return step, accuracy


# --- batches, divergence and the table --------------------------------------------------
def batch_order(train_size: int, batch_size: int, steps: int, seed: int) -> np.ndarray:
    """(steps, batch) example indices: reshuffled every epoch, from the seed."""
    rng = np.random.default_rng([seed, 11])
    needed = steps * batch_size
    epochs = -(-needed // train_size)
    order = np.concatenate([rng.permutation(train_size) for _ in range(epochs)])
    return order[:needed].reshape(steps, batch_size)


def _divergence(step: int, scalars: np.ndarray, rows: np.ndarray) -> dict | None:
    """Where inf or nan first appeared in this step, or None if all is finite."""
    loss, grad_norm = scalars[0], scalars[3]
    if np.isfinite(loss) and np.isfinite(grad_norm) and np.isfinite(rows[:, :4]).all():
        return None
    forward_bad = np.flatnonzero(~np.isfinite(rows[:, 6]) | ~np.isfinite(rows[:, 7]))
    signal_bad = np.flatnonzero(~np.isfinite(rows[:, 1]) | ~np.isfinite(rows[:, 0]))
    if forward_bad.size:  # the forward pass overflowed first: lowest such layer
        layer, where = int(forward_bad[0]) + 1, "activations (forward pass)"
    elif not np.isfinite(loss):
        layer, where = None, "loss"
    elif signal_bad.size:  # backward: the first layer reached going down
        layer, where = int(signal_bad[-1]) + 1, "gradients (backward pass)"
    elif (~np.isfinite(rows[:, 3])).any():  # this step's update overflowed the weights
        layer, where = int(np.flatnonzero(~np.isfinite(rows[:, 3]))[0]) + 1, \
            "weights (after this step's update)"
    else:
        layer, where = None, "gradients (readout)"
    value = "nan" if np.isnan(loss) or np.isnan(grad_norm) or np.isnan(rows[:, :4]).any() \
        else "inf"
    at = f" at hidden layer {layer}" if layer else ""
    return {"step": step, "layer": layer, "where": where, "value": value,
            "message": f"diverged at step {step}: {value} in the {where}{at}; "
                       f"training stopped, the steps before are kept"}


def _long_table(scalars: np.ndarray, rows: np.ndarray) -> pd.DataFrame:
    steps, depth = rows.shape[0], rows.shape[1]
    columns = {"step": np.repeat(np.arange(1, steps + 1), depth),
               "layer": np.tile(np.arange(1, depth + 1), steps)}
    for position, name in enumerate(STEP_COLUMNS):
        columns[name] = np.repeat(scalars[:, position], depth)
    for position, name in enumerate(LAYER_COLUMNS):
        columns[name] = rows[:, :, position].reshape(-1)
    table = pd.DataFrame(columns)
    table["clipped"] = table["clipped"] > 0.5
    return table
