"""core.train(model_spec, training_spec): train a Keras network, recording every layer.

The network is built from real keras.layers (Dense -> BatchNormalization -> activation,
+ identity skip) with the same initial weights core.weights draws for the profile, and a
softmax readout for the data set's classes. A custom training loop (one tf.function per
run, traced here, never in a page) takes each step with tf.GradientTape and a Keras
optimizer, and measures at the same time, per hidden layer: the weight gradient, the
back-propagated signal dLoss/dh_l, the update-to-weight ratio, the weight norm and the
dead and saturated fractions (definitions as in core.per_layer). Per step: the gradient
norm over all weights before clipping, the norm of the whole update, and whether the
optimizer clipped.

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
MOMENTUM = 0.9  # the "momentum" optimizer: keras.optimizers.SGD(momentum=0.9)
# Training work budget: forward multiply-adds per example x batch size x steps
# (depth x width^2 x batch x steps). 2**34 is about 10 s on two shared cores.
MAX_TRAINING_WORK = 2 ** 34

# The network trained by default: the dying-ReLU experiment of the Activations page.
DEFAULT_MODEL = ModelSpec(depth=6, width=32, activation="relu", init="he_normal")
# ModelSpec fields that training sets itself (from the data set and the TrainingSpec).
MODEL_FIELDS_SET_BY_TRAINING = ("batch_size", "input_dim", "input_std", "seed")

LAYER_COLUMNS = ["weight_grad_norm", "signal_grad_norm", "update_ratio", "weight_norm",
                 "dead_fraction", "saturated_fraction", "activation_mean",
                 "activation_std"]
STEP_COLUMNS = ["loss", "l2_penalty", "batch_accuracy", "train_accuracy", "test_accuracy",
                "global_grad_norm", "global_update_norm", "clipped"]
COLUMNS = ["step", "layer"] + STEP_COLUMNS + LAYER_COLUMNS


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

    def __post_init__(self):
        super().__post_init__()
        clipping = [name for name in ("clipnorm", "clipvalue", "global_clipnorm")
                    if getattr(self, name) > 0]
        if len(clipping) > 1:
            raise ValueError(f"only one of clipnorm, clipvalue and global_clipnorm may be "
                             f"set (Keras allows one); got {' and '.join(clipping)}")

    @property
    def clipping(self) -> str | None:
        for name in ("clipnorm", "clipvalue", "global_clipnorm"):
            if getattr(self, name) > 0:
                return name
        return None



def training_model_spec(model_spec: ModelSpec, training_spec: TrainingSpec,
                        features: int) -> ModelSpec:
    """The model spec as trained: input size from the data, seed from the training."""
    return model_spec.replace(input_dim=features, seed=training_spec.seed,
                              batch_size=training_spec.batch_size, input_std=1.0)


def check_budget(model_spec: ModelSpec, training_spec: TrainingSpec,
                 features: int = 64) -> int:
    """Forward multiply-adds of the whole run; ValueError if over MAX_TRAINING_WORK."""
    width_in = max(model_spec.width, features)
    work = model_spec.depth * model_spec.width * width_in * training_spec.batch_size * \
        training_spec.steps
    if work > MAX_TRAINING_WORK:
        raise ValueError(
            f"depth x width^2 x batch_size x steps = {work:.3g} is over the training "
            f"budget of {MAX_TRAINING_WORK:.3g}: reduce depth, width, batch_size or steps")
    return work


def train(model_spec: ModelSpec, training_spec: TrainingSpec, on_step=None):
    """Train and return the long table (one row per step x hidden layer); see engine."""
    return _run_training(model_spec, training_spec, on_step)


# --- python -m core train ---------------------------------------------------------

def _model_fields():
    return [name for name in ModelSpec.field_map()
            if name not in MODEL_FIELDS_SET_BY_TRAINING]


def add_arguments(parser) -> None:
    from .cli import add_format_argument, add_spec_arguments
    add_spec_arguments(parser, fields=_model_fields(), base=DEFAULT_MODEL)
    add_spec_arguments(parser, base=TrainingSpec())
    add_format_argument(parser)


def training_spec_from_args(args) -> TrainingSpec:
    from .cli import spec_from_args
    return spec_from_args(args, base=TrainingSpec())


def run(args) -> pd.DataFrame:
    import sys

    from .cli import UsageError, spec_from_args
    model_spec = spec_from_args(args, fields=_model_fields(), base=DEFAULT_MODEL)
    training_spec = training_spec_from_args(args)
    try:
        check_budget(model_spec, training_spec)
    except ValueError as error:
        raise UsageError(str(error)) from None
    table = train(model_spec, training_spec)  # TensorFlow is imported only now
    for line in describe_run(table):
        print(line, file=sys.stderr)
    return table


def describe_run(table: pd.DataFrame) -> list[str]:
    """One-line facts about a finished run: divergence, cancellation, accuracy."""
    lines = []
    divergence = table.attrs.get("divergence")
    if divergence:
        lines.append(divergence["message"])
    if table.attrs.get("stopped") in ("cancelled", "interrupted"):
        lines.append(f"{table.attrs['stopped']} after {table.attrs['steps_done']} steps")
    return lines


# XLA for the training step: off, measured slower here for 20 x 64 over 300 steps
# (tracing 2.4 s instead of 1.25 s, saving only 0.7 ms a step).
JIT = False
RECENT = 20  # steps averaged for "recent" batch accuracy


def _ratio(values) -> float:
    """values[first layer] / values[last layer], nan when undefined."""
    if not len(values):
        return float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(values.iloc[0]) / np.float64(values.iloc[-1]))


def summarize(table: pd.DataFrame) -> dict:
    """Headline numbers of one run, all read from the recorded table."""
    steps = table.groupby("step", sort=True).first()
    per_step_dead = table.groupby("step")["dead_fraction"].mean()
    evaluated = steps["test_accuracy"].dropna()
    finite_loss = steps["loss"][np.isfinite(steps["loss"])]
    last = table[table["step"] == table["step"].max()]
    return {
        "steps_done": int(table["step"].max()) if len(table) else 0,
        "final_loss": float(finite_loss.iloc[-1]) if len(finite_loss) else float("nan"),
        "min_loss": float(finite_loss.min()) if len(finite_loss) else float("nan"),
        "final_test_accuracy": float(evaluated.iloc[-1]) if len(evaluated) else float("nan"),
        "best_test_accuracy": float(evaluated.max()) if len(evaluated) else float("nan"),
        "dead_first": float(per_step_dead.iloc[0]) if len(per_step_dead) else float("nan"),
        "dead_last": float(per_step_dead.iloc[-1]) if len(per_step_dead) else float("nan"),
        "dead_max": float(per_step_dead.max()) if len(per_step_dead) else float("nan"),
        "clipped_fraction": float(steps["clipped"].mean()) if len(steps) else 0.0,
        # training-mode accuracy on the last RECENT batches (batch norm: batch statistics)
        "recent_batch_accuracy": float(steps["batch_accuracy"].iloc[-RECENT:].mean())
        if len(steps) else float("nan"),
        "grad_ratio_first_last": _ratio(last["weight_grad_norm"]),
        "diverged_step": (table.attrs.get("divergence") or {}).get("step"),
        "diverged_layer": (table.attrs.get("divergence") or {}).get("layer"),
        "seconds": table.attrs.get("seconds", float("nan")),
    }


# --- the engine (TensorFlow from here on) -------------------------------------------
class _Network:
    """The trained network: keras.layers, plus a functional keras.Model over them."""

    def __init__(self, spec: ModelSpec, classes: int):
        from .per_layer import BN_EPSILON
        from .tf_setup import keras
        from .weights import layer_seed, make_weights
        first, stack, biases, _ = make_weights(spec)
        kernels = [first] + list(stack)
        self.spec = spec
        self.dense, self.norms, self.acts = [], [], []
        inputs = keras.Input((spec.n_in,), dtype=spec.dtype, name="inputs")
        h = inputs
        for layer in range(1, spec.depth + 1):
            dense = keras.layers.Dense(spec.width, use_bias=not spec.no_bias,
                                       dtype=spec.dtype, name=f"dense_{layer}")
            norm = keras.layers.BatchNormalization(
                epsilon=BN_EPSILON, dtype=spec.dtype, name=f"batch_norm_{layer}") \
                if spec.batch_norm else None
            if spec.activation == "leaky_relu":
                act = keras.layers.LeakyReLU(negative_slope=spec.negative_slope,
                                             dtype=spec.dtype, name=f"activation_{layer}")
            else:
                act = keras.layers.Activation(spec.activation, dtype=spec.dtype,
                                              name=f"activation_{layer}")
            z = dense(h)
            a = act(norm(z) if norm is not None else z)
            h = a + h if spec.residual and layer > 1 else a
            dense.set_weights([kernels[layer - 1]] if spec.no_bias
                              else [kernels[layer - 1], biases[layer - 1]])
            self.dense.append(dense)
            self.norms.append(norm)
            self.acts.append(act)
        self.readout = keras.layers.Dense(classes, dtype=spec.dtype, name="readout")
        logits = self.readout(h)
        readout_kernel = keras.initializers.GlorotUniform(seed=layer_seed(spec.seed, 0))(
            (spec.width, classes), dtype=spec.dtype)
        self.readout.set_weights([np.asarray(readout_kernel),
                                  np.zeros(classes, spec.dtype)])
        self.model = keras.Model(inputs, logits, name="gradient_lab_classifier")
        self.kernels = [dense.kernel for dense in self.dense]

    def forward(self, x, training: bool):
        """logits, pre-activations z_l (after batch norm) and hidden outputs h_l."""
        h, zs, hs = x, [], []
        for layer, (dense, norm, act) in enumerate(zip(self.dense, self.norms, self.acts)):
            z = dense(h)
            if norm is not None:
                z = norm(z, training=training)
            a = act(z)
            h = a + h if self.spec.residual and layer > 0 else a
            zs.append(z)
            hs.append(h)
        return self.readout(h), zs, hs


def make_optimizer(training_spec: TrainingSpec):
    """The Keras optimizer for the spec, with its own clipping argument (if any)."""
    from .tf_setup import keras
    clip = {name: getattr(training_spec, name) for name in
            ("clipnorm", "clipvalue", "global_clipnorm") if getattr(training_spec, name) > 0}
    if training_spec.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=training_spec.learning_rate, **clip)
    momentum = MOMENTUM if training_spec.optimizer == "momentum" else 0.0
    return keras.optimizers.SGD(learning_rate=training_spec.learning_rate,
                                momentum=momentum, **clip)


def _build_step(network: _Network, optimizer, training_spec: TrainingSpec):
    """One traced training step that also measures every layer (a tf.function).

    The per-layer measurements are vectorized over layers (hidden layers all have the
    same width), so their cost, and the tracing time, hardly grow with depth. Norms are
    taken in float64, so that float32 gradients up to ~1e150 do not overflow.
    """
    from .activations import activation_fn, peak_slope, saturates
    from .per_layer import SATURATION_MIN_Z, SATURATION_SLOPE
    from .tf_setup import tf
    spec = network.spec
    dtype = spec.dtype
    phi = activation_fn(spec.activation)
    saturating, peak = saturates(spec.activation), peak_slope(spec.activation)
    slope_value = tf.constant(spec.negative_slope, dtype)
    variables = list(network.model.trainable_variables)
    kernel_index = [next(i for i, v in enumerate(variables) if v is kernel)
                    for kernel in network.kernels]
    penalized = network.kernels + [network.readout.kernel]
    l2 = training_spec.l2
    clipping = training_spec.clipping
    threshold = getattr(training_spec, clipping) if clipping else 0.0

    def squares(tensors, axes=None):
        """Sum of squares in float64: of one tensor, or per layer of a stack."""
        return tf.reduce_sum(tf.square(tf.cast(tensors, tf.float64)), axis=axes)

    def unit_stats(z):  # z: (depth, batch, width)
        z = tf.stop_gradient(z)
        with tf.GradientTape() as inner:
            inner.watch(z)
            a = phi(z, slope_value)
        slope = inner.gradient(a, z)
        silent = tf.logical_and(tf.equal(a, 0), tf.equal(slope, 0))
        dead = tf.reduce_mean(tf.cast(tf.reduce_all(silent, axis=1), tf.float64), [1])
        if saturating:
            flat = tf.logical_and(tf.abs(slope) < SATURATION_SLOPE * peak,
                                  tf.abs(z) >= SATURATION_MIN_Z)
            return dead, tf.reduce_mean(tf.cast(flat, tf.float64), [1, 2])
        return dead, tf.zeros_like(dead)

    features = network.spec.n_in
    batch_signature = [tf.TensorSpec([None, features], dtype), tf.TensorSpec([None], tf.int32)]

    @tf.function(input_signature=batch_signature, jit_compile=JIT)
    def step(x, y):
        with tf.GradientTape() as tape:
            logits, zs, hs = network.forward(x, training=True)
            data_loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=y, logits=logits))
            penalty = tf.zeros([], dtype)
            if l2 > 0:
                penalty = l2 * tf.add_n([tf.reduce_sum(tf.square(k)) for k in penalized])
            loss = data_loss + penalty
        grads = tape.gradient(loss, variables + hs)
        var_grads, signal_grads = grads[:len(variables)], grads[len(variables):]
        grad_squares = tf.stack([squares(g) for g in var_grads])
        global_grad_norm = tf.sqrt(tf.reduce_sum(grad_squares))
        if clipping == "global_clipnorm":
            clipped = global_grad_norm > threshold
        elif clipping == "clipnorm":
            clipped = tf.reduce_any(tf.sqrt(grad_squares) > threshold)
        elif clipping == "clipvalue":
            clipped = tf.reduce_any(tf.stack([tf.reduce_max(tf.abs(g)) for g in var_grads])
                                    > threshold)
        else:
            clipped = tf.constant(False)
        old = [tf.identity(v) for v in variables]
        optimizer.apply(var_grads, variables)
        # Per-variable sums of squares, each computed once and shared by every norm.
        update_squares = tf.stack([squares(v - o) for v, o in zip(variables, old)])
        global_update_norm = tf.sqrt(tf.reduce_sum(update_squares))
        old_kernel_norm = tf.sqrt(tf.stack([squares(old[i]) for i in kernel_index]))
        weight_norm = tf.sqrt(tf.stack([squares(variables[i]) for i in kernel_index]))
        update_ratio = tf.sqrt(tf.gather(update_squares, kernel_index)) / old_kernel_norm
        weight_grad = tf.sqrt(tf.gather(grad_squares, kernel_index))
        signal = tf.sqrt(squares(tf.stack(signal_grads), [1, 2]))
        dead, saturated = unit_stats(tf.stack(zs))
        hidden = tf.cast(tf.stop_gradient(tf.stack(hs)), tf.float64)
        rows = tf.stack([weight_grad, signal, update_ratio, weight_norm, dead, saturated,
                         tf.reduce_mean(hidden, [1, 2]), tf.math.reduce_std(hidden, [1, 2])],
                        axis=1)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(
            tf.argmax(logits, axis=1, output_type=tf.int32), y), tf.float64))
        scalars = tf.stack([tf.cast(data_loss, tf.float64), tf.cast(penalty, tf.float64),
                            accuracy, global_grad_norm, global_update_norm,
                            tf.cast(clipped, tf.float64)])
        return scalars, rows

    @tf.function(input_signature=batch_signature)
    def accuracy(x, y):
        logits, _, _ = network.forward(x, training=False)
        return tf.reduce_mean(tf.cast(tf.equal(
            tf.argmax(logits, axis=1, output_type=tf.int32), y), tf.float64))

    return step, accuracy


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


def _run_training(model_spec: ModelSpec, training_spec: TrainingSpec, on_step=None):
    from . import datasets
    if not isinstance(model_spec, ModelSpec) or not isinstance(training_spec, TrainingSpec):
        raise TypeError("train() takes a core.ModelSpec and a core.training.TrainingSpec")
    started = time.perf_counter()
    data = datasets.load(training_spec.dataset, training_spec.seed, model_spec.dtype)
    spec = training_model_spec(model_spec, training_spec, data.features)
    check_budget(spec, training_spec, data.features)
    network = _Network(spec, data.classes)
    optimizer = make_optimizer(training_spec)
    step_fn, accuracy_fn = _build_step(network, optimizer, training_spec)
    order = batch_order(len(data.y_train), training_spec.batch_size, training_spec.steps,
                        training_spec.seed)
    depth, steps = spec.depth, training_spec.steps
    scalars_all = np.full((steps, 8), np.nan)
    rows_all = np.full((steps, depth, len(LAYER_COLUMNS)), np.nan)
    divergence, stopped, done = None, None, 0

    def finish(done, divergence, stopped):
        table = _long_table(scalars_all[:done], rows_all[:done])
        table.attrs.update(divergence=divergence, stopped=stopped, steps_done=done,
                           seconds=time.perf_counter() - started,
                           model_spec=spec.to_dict(), training_spec=training_spec.to_dict(),
                           classes=data.classes, train_size=len(data.y_train),
                           test_size=len(data.y_test))
        return table

    for index in range(steps):
        batch = order[index]
        scalars, rows = step_fn(data.x_train[batch], data.y_train[batch])
        scalars, rows = scalars.numpy(), rows.numpy()
        step = index + 1
        scalars_all[index, [0, 1, 2, 5, 6, 7]] = scalars
        rows_all[index] = rows
        done = step
        divergence = _divergence(step, scalars, rows)
        if divergence is None and (step % training_spec.eval_every == 0 or step == steps
                                   or step == 1):
            scalars_all[index, 3] = float(accuracy_fn(data.x_train, data.y_train))
            scalars_all[index, 4] = float(accuracy_fn(data.x_test, data.y_test))
        if on_step is not None:
            progress = {"step": step, "steps": steps,
                        "seconds": time.perf_counter() - started,
                        "loss": scalars[0], "dead_fraction": rows[:, 4].copy(),
                        "test_accuracy": scalars_all[index, 4]}
            try:
                keep_going = on_step(progress)
            except BaseException as error:  # e.g. the app stopping for a rerun
                # The caller may keep what was measured so far.
                error.partial_result = finish(done, divergence, "interrupted")
                raise
            if keep_going is False:
                stopped = "cancelled"
                break
        if divergence is not None:
            stopped = "diverged"
            break
    return finish(done, divergence, stopped)


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


# --- the Activations page's curves -------------------------------------------------
ACTIVATION_CHOICES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu",
                      "swish")


NOT_COUNTED = "n/a (piecewise linear)"  # no tail the slope approaches: not counted


def curve_facts(curves: pd.DataFrame) -> pd.DataFrame:
    """Per activation, read off the measured curves: peak slope, slopes at both ends,
    where the slope is exactly 0 and where it saturates (core.per_layer's definition)."""
    from .activations import saturates
    from .per_layer import SATURATION_SLOPE
    rows = []
    for name, curve in curves.groupby("activation", sort=False):
        slope = curve["slope"].to_numpy()
        z = curve["z"].to_numpy()
        zero = z[slope == 0]
        # core.per_layer's saturation rule: |slope| under 5% of the peak, on a tail |z| >= 2
        flat = (np.abs(slope) < SATURATION_SLOPE * slope.max()) & (np.abs(z) >= 2.0)
        sides = [f"z <= {z[flat & (z < 0)].max():.2g}" if (flat & (z < 0)).any() else "",
                 f"z >= {z[flat & (z > 0)].min():.2g}" if (flat & (z > 0)).any() else ""]
        rows.append({"activation": name, "peak slope": float(slope.max()),
                     f"slope at z = {z[0]:g}": float(slope[0]),
                     f"slope at z = {z[-1]:g}": float(slope[-1]),
                     "output range on the grid": f"{curve['value'].min():.3g} to "
                                                  f"{curve['value'].max():.3g}",
                     "slope exactly 0 for": (f"z <= {zero.max():g}" if zero.size else
                                             "no z on the grid"),
                     "saturated (slope < 5% of peak) for": (
                         " and ".join(side for side in sides if side) or "no z on the grid")
                     if saturates(name) else NOT_COUNTED})
    return pd.DataFrame(rows)


def keras_leaky_relu_defaults() -> dict:
    """Keras' default negative slopes, read from the installed Keras' signatures."""
    import inspect

    from .tf_setup import keras
    layer = inspect.signature(keras.layers.LeakyReLU.__init__).parameters["negative_slope"]
    function = inspect.signature(keras.activations.leaky_relu).parameters["negative_slope"]
    return {"keras.layers.LeakyReLU": layer.default,
            "keras.activations.leaky_relu": function.default}


# --- the Remedies page's experiments -------------------------------------------------
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
BASELINE = "baseline"


def scenario_runs(scenario: str, remedies=None, seed: int = 0) -> dict:
    """label -> (ModelSpec, TrainingSpec): the baseline and the chosen remedies."""
    _, model, training, options = SCENARIOS[scenario]
    training = training.replace(seed=seed)
    runs = {BASELINE: (model, training)}
    for label, model_changes, training_changes in options:
        if remedies is None or label in remedies:
            runs[label] = (model.replace(**model_changes), training.replace(**training_changes))
    return runs


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


def compare_runs(tables: dict) -> pd.DataFrame:
    """One row per run: what each remedy changed, all read from the recorded tables."""
    rows = []
    for label, table in tables.items():
        result = summarize(table)
        first = table[table["step"] == 1]
        rows.append({
            "run": label,
            "outcome": outcome(result, table.attrs.get("classes", 10)),
            "test accuracy": result["final_test_accuracy"],
            f"batch accuracy, last {RECENT} steps": result["recent_batch_accuracy"],
            "final loss": result["final_loss"],
            "diverged at step": result["diverged_step"],
            "weight-grad ratio layer 1 / top, step 1": _ratio(first["weight_grad_norm"]),
            "signal ratio layer 1 / top, step 1": _ratio(first["signal_grad_norm"]),
            "steps clipped": result["clipped_fraction"],
            "most dead units": result["dead_max"],
            "seconds": result["seconds"],
        })
    return _integer_steps(pd.DataFrame(rows))


def _integer_steps(frame: pd.DataFrame) -> pd.DataFrame:
    """'diverged at step' as whole numbers, empty where the run did not diverge."""
    frame["diverged at step"] = pd.array(frame["diverged at step"].tolist(), dtype="Int64")
    return frame


GLOROT_FIGURE_2 = (
    ModelSpec(depth=4, width=256, activation="sigmoid", init="random_uniform",
              limit=0.0625),
    TrainingSpec(learning_rate=0.1, batch_size=10, steps=1500, eval_every=50))


# --- the Activations page's experiment ------------------------------------------------
DYING_RELU_RATES = (0.05, 0.5, 1.0)


def activation_experiment(activation: str, negative_slope: float = 0.01,
                          seed: int = 0) -> ModelSpec:
    """6 x 32 on digits with the init each activation is designed for.

    He (he_normal) for the ReLU family, GELU and swish; LeCun (lecun_normal) for SELU,
    which is self-normalizing only with it; Glorot (glorot_uniform) for sigmoid and tanh.
    """
    init = {"selu": "lecun_normal", "sigmoid": "glorot_uniform",
            "tanh": "glorot_uniform"}.get(activation, "he_normal")
    return ModelSpec(depth=6, width=32, activation=activation, init=init,
                     negative_slope=negative_slope, seed=seed)


def run_label(model_spec: ModelSpec, training_spec: TrainingSpec) -> str:
    name = model_spec.activation
    if name == "leaky_relu":
        name += f" ({model_spec.negative_slope:g})"
    return f"{name}, lr {training_spec.learning_rate:g}, seed {training_spec.seed}"


def progress_text(progress: dict) -> str:
    """'step 120 / 300 · 1.8 s elapsed · about 2.7 s left' from an on_step report."""
    step, steps, seconds = progress["step"], progress["steps"], progress["seconds"]
    left = seconds / step * (steps - step)
    return (f"step {step} / {steps} · {seconds:.1f} s elapsed · about {left:.1f} s left")


def dying_relu_summary(tables: dict) -> pd.DataFrame:
    """Per run: dead units at step 1, at the end and at most; accuracy; divergence."""
    rows = []
    for label, table in tables.items():
        result = summarize(table)
        rows.append({"run": label, "dead at step 1": result["dead_first"],
                     "dead at the end": result["dead_last"],
                     "most dead": result["dead_max"],
                     "test accuracy": result["final_test_accuracy"],
                     "steps done": result["steps_done"],
                     "diverged at step": result["diverged_step"]})
    return _integer_steps(pd.DataFrame(rows))


def keras_batch_norm_defaults() -> dict:
    """keras.layers.BatchNormalization's defaults, read from the installed Keras."""
    import inspect

    from .tf_setup import keras
    parameters = inspect.signature(keras.layers.BatchNormalization.__init__).parameters
    return {name: parameters[name].default
            for name in ("momentum", "epsilon", "moving_variance_initializer")}
