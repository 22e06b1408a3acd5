"""core.flow(model, inputs): the gradient flow of any keras.Model, one row per layer.

The model runs once, eagerly, layer by layer, under one tf.GradientTape. A functional
model is walked with Keras' own graph runner (`Functional._run_through_graph`, the loop
`Functional.call` runs), a Sequential model layer after layer, and a nested model
(a `keras.applications` network inside a model) is walked the same way inside its
parent, so its layers get rows of their own. Every layer that holds weights has its
output watched by the tape, so `tape.gradient` gives dLoss/d(layer output) exactly.
Tests check every column against a hand-written tape on small models.
"""
from __future__ import annotations

import functools
import inspect
import math
import re

import numpy as np
import pandas as pd

from .tf_setup import keras, tf

COLUMNS = ["index", "name", "kind", "block", "params", "signal_grad_norm",
           "weight_grad_norm", "weight_norm", "activation_mean", "activation_std",
           "activation_norm", "dead_fraction"]

LOSS_DESCRIPTION = (
    "Loss: mean squared error between the model's final output and fixed N(0, 1) "
    "targets of the same shape (drawn from the seed), averaged over every example and "
    "every position of the output: a sequence model's loss covers every time step, not "
    "a pooled summary. No data is needed.")
WEIGHT_DESCRIPTION = (
    "Weight gradient and weight norm: a layer's kernels (Dense and convolution kernels, "
    "attention projections, recurrent kernels), not its biases. A layer without a "
    "kernel (a normalization layer) counts all its trainable weights (γ and β); a "
    "layer with none trainable, all its weights.")
TRAINING_DESCRIPTION = (
    "The pass runs in training mode, as in a training step: batch normalization uses "
    "the batch's own statistics (its moving averages are restored afterwards). Dropout "
    "and noise layers run in inference mode, so the same seed gives the same table.")
DEAD_DESCRIPTION = (
    "Dead fraction: the share of a layer's output units (every feature at every "
    "position) that are exactly 0 for every example of the batch; 0 for a layer whose "
    "output is never clipped (a Dense layer without activation).")

# Weightless layers that are random in training mode: run in inference mode.
INFERENCE_ONLY = tuple(getattr(keras.layers, name) for name in (
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianNoise", "GaussianDropout", "AlphaDropout") if hasattr(keras.layers, name))
# Layers whose input is text or lookup keys: there is no gradient to follow.
UNSUPPORTED = ("TextVectorization", "StringLookup", "IntegerLookup", "Hashing",
               "CategoryEncoding", "Lambda", "TFSMLayer")
_BLOCK = re.compile(r"^(.*?block_?\d+[a-z]?)(?:_|$)")


def block_of(name: str) -> str:
    """The block a layer sits in, read from its name: everything up to the first
    'block<N>' ('conv2_block1_1_conv' -> 'conv2_block1', 'block_3_attention' ->
    'block_3', 'block2a_expand_conv' -> 'block2a'); else the name itself."""
    match = _BLOCK.match(name)
    return match.group(1) if match else name


def is_walkable(model) -> bool:
    """Whether `model`'s layers can be run one by one (Sequential or functional)."""
    return isinstance(model, keras.Sequential) or hasattr(model, "_run_through_graph")


def weighted_layers(model) -> list:
    """The layers with weights, in forward order, nested models flattened."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model) and is_walkable(layer):
            found += weighted_layers(layer)
        elif layer.weights and not any(layer is seen for seen in found):
            found.append(layer)
    return found


def all_layers(model) -> list:
    """Every layer (nested models flattened), for the checks of `check_supported`."""
    return [inner for layer in model.layers for inner in (
        all_layers(layer) if isinstance(layer, keras.Model) and is_walkable(layer)
        else [layer])]


def check_supported(model) -> None:
    """ValueError with a plain message if `flow` cannot measure `model`."""
    if not isinstance(model, keras.Model):
        raise ValueError("flow() measures a keras.Model")
    if not is_walkable(model):
        raise ValueError(f"{type(model).__name__} is a subclassed model: flow() needs a "
                         "Sequential or functional model, whose layers it can run one "
                         "by one")
    bad = sorted({type(layer).__name__ for layer in all_layers(model)
                  if type(layer).__name__ in UNSUPPORTED})
    if bad:
        raise ValueError(f"unsupported layer type {', '.join(bad)}: these layers take "
                         "text or lookup keys, through which no gradient flows")
    if getattr(model, "stateful", False) or any(getattr(layer, "stateful", False)
                                                 for layer in all_layers(model)):
        raise ValueError("stateful recurrent layers are not supported: their state "
                         "would carry from one measurement to the next")
    if not weighted_layers(model):
        raise ValueError("the model has no layer with weights to measure")


def kernel_variables(layer) -> list:
    """The weights the weight-gradient column measures (see WEIGHT_DESCRIPTION)."""
    floats = [v for v in layer.weights if "float" in str(v.dtype)]
    kernels = [v for v in floats if v.trainable and "kernel" in v.name]
    return kernels or [v for v in floats if v.trainable] or floats


def _takes_training(layer) -> bool:
    return _call_takes_training(type(layer))


@functools.lru_cache(maxsize=None)
def _call_takes_training(kind) -> bool:
    try:
        return "training" in inspect.signature(kind.call).parameters
    except (TypeError, ValueError):
        return False


def _call(layer, on_layer, *args, **kwargs):
    """One layer (or a nested model, walked) on its inputs; `on_layer` sees its output."""
    if isinstance(layer, keras.Model) and is_walkable(layer):
        return walk(layer, args[0], on_layer)
    if isinstance(layer, keras.layers.Layer) and _takes_training(layer):
        kwargs["training"] = not isinstance(layer, INFERENCE_ONLY)
    outputs = layer(*args, **kwargs)
    if isinstance(layer, keras.layers.Layer) and layer.weights:
        on_layer(layer, outputs)
    return outputs


def walk(model, inputs, on_layer):
    """Run `model` on `inputs` one layer at a time; on_layer(layer, outputs) for every
    layer with weights, in the order they run."""
    if isinstance(model, keras.Sequential):
        x = inputs
        for layer in model.layers:
            x = _call(layer, on_layer, x)
        return x
    return model._run_through_graph(
        inputs, operation_fn=lambda op: functools.partial(_call, op, on_layer))


def _is_float(dtype) -> bool:
    return "float" in str(dtype)


def input_shapes(model) -> list[tuple]:
    """The model's input shapes, batch dimension excluded (None where free)."""
    return [tuple(tensor.shape[1:]) for tensor in model.inputs]


def random_inputs(model, batch_size: int = 8, seed: int = 0) -> list[np.ndarray]:
    """One batch of inputs of the model's input shape, from the seed: N(0, 1) for float
    inputs; for integer inputs (token ids), integers below the smallest Embedding's
    vocabulary. Free dimensions (None) take 16."""
    rng = np.random.default_rng([seed, 13])
    vocabulary = [layer.input_dim for layer in all_layers(model)
                  if isinstance(layer, keras.layers.Embedding)]
    batch = []
    for tensor in model.inputs:
        shape = (batch_size,) + tuple(16 if n is None else n for n in tensor.shape[1:])
        if _is_float(tensor.dtype):
            batch.append(rng.normal(0.0, 1.0, shape).astype(tensor.dtype))
        else:
            batch.append(rng.integers(0, min(vocabulary, default=2), shape)
                         .astype(tensor.dtype))
    return batch


def check_inputs(model, inputs) -> list[np.ndarray]:
    """`inputs` as a list of arrays, one per model input; ValueError naming the shape the
    model expects if they do not fit."""
    arrays = [np.asarray(x) for x in (inputs if isinstance(inputs, (list, tuple))
                                      else [inputs])]
    if len(arrays) != len(model.inputs):
        raise ValueError(f"the model takes {len(model.inputs)} input(s), got "
                         f"{len(arrays)}")
    for array, tensor in zip(arrays, model.inputs):
        expected = tuple(tensor.shape[1:])
        fits = array.ndim == len(expected) + 1 and all(
            n is None or n == m for n, m in zip(expected, array.shape[1:]))
        if not fits or array.shape[0] < 1:
            want = ", ".join("any" if n is None else str(n) for n in expected)
            raise ValueError(f"inputs of shape {array.shape} do not fit the model, which "
                             f"takes (batch, {want})")
        if _is_float(tensor.dtype) and not np.issubdtype(array.dtype, np.number):
            raise ValueError(f"inputs must be numbers, got dtype {array.dtype}")
    return [array.astype(tensor.dtype) for array, tensor in zip(arrays, model.inputs)]


def random_targets(outputs, seed: int = 0) -> list[np.ndarray]:
    """Fixed N(0, 1) targets of each output's shape, from the seed."""
    rng = np.random.default_rng([seed, 2026])
    return [rng.normal(0.0, 1.0, tuple(y.shape)).astype(y.dtype.name
                                                         if hasattr(y.dtype, "name")
                                                         else "float32")
            for y in outputs]


def mse(targets, outputs):
    """The default loss: sum over the model's outputs of the mean squared error."""
    return tf.add_n([tf.reduce_mean(tf.square(y - tf.cast(t, y.dtype)))
                     for y, t in zip(outputs, targets)])


def _array(tensor) -> np.ndarray:
    """A tensor (or a sparse gradient, made dense) as a numpy array."""
    if isinstance(tensor, tf.IndexedSlices):
        tensor = tf.convert_to_tensor(tensor)
    return np.asarray(tensor)


# inf and nan are results here (named in the table), not accidents to warn about
@np.errstate(over="ignore", invalid="ignore")
def _norm(tensors) -> float:
    """The L2 norm of all entries of `tensors`, in float64, with numpy (no TensorFlow
    op; no BLAS either, whose threads fight TensorFlow's). A float32 tensor's squares
    cannot overflow float64; a float64 tensor is scaled by its largest |entry| first,
    as per_layer.safe_norm does."""
    total = 0.0
    for tensor in tensors:
        values = _array(tensor)
        flat = values.astype(np.float64, copy=False).ravel()
        peak = float(np.max(np.abs(flat))) if values.dtype == np.float64 and flat.size \
            else 0.0
        if peak > 0 and math.isfinite(peak):
            flat = flat / peak
        else:
            peak = 1.0
        total = math.hypot(total, peak * math.sqrt(float(np.sum(np.square(flat)))))
    return total


@np.errstate(over="ignore", invalid="ignore")
def _stats(outputs) -> tuple:
    """(mean, std, norm, dead fraction) of a layer's float outputs, over all its calls,
    in float64 numpy (a handful of array passes instead of a dozen eager ops a layer)."""
    values = [_array(out) for out in outputs if _is_float(out.dtype)]
    if not values:
        return (np.nan,) * 4
    flat = np.concatenate([v.astype(np.float64).ravel() for v in values])
    mean = float(np.mean(flat)) if flat.size else np.nan
    variance = float(np.mean(np.square(flat - mean))) if flat.size else np.nan
    dead = [float(np.mean(np.all(v == 0, axis=0))) for v in values if v.ndim > 1]
    # float64 outputs: _norm's overflow-safe path; others: their float64 copy's squares
    norm = _norm(values) if any(v.dtype == np.float64 for v in values) else \
        math.sqrt(float(np.sum(np.square(flat))))
    return (mean, math.sqrt(max(variance, 0.0)), norm, float(np.mean(dead)) if dead else 0.0)


def flow(model, inputs=None, targets=None, loss=None, *, batch_size: int = 8,
         seed: int = 0) -> pd.DataFrame:
    """One row per layer with weights (forward order, index 1 nearest the input).

    `inputs`: an array (or one per model input); default `random_inputs(model,
    batch_size, seed)`. `targets`: default `random_targets` of the output's shape.
    `loss(targets, outputs)`: lists of arrays and tensors, default `mse` (see
    LOSS_DESCRIPTION). Columns: COLUMNS. attrs: loss, output_shapes, loss_description.
    """
    check_supported(model)
    x = random_inputs(model, batch_size, seed) if inputs is None else \
        check_inputs(model, inputs)
    layers = weighted_layers(model)
    kernels = [kernel_variables(layer) for layer in layers]
    seen: dict = {}  # id(layer) -> outputs of every call

    def record(layer, outputs):
        flat = [out for out in keras.tree.flatten(outputs) if _is_float(out.dtype)]
        for out in flat:
            tape.watch(out)
        seen.setdefault(id(layer), []).extend(flat)

    saved = [(v, v.numpy()) for v in model.non_trainable_variables]
    try:
        with tf.GradientTape() as tape:
            tape.watch([v.value for group in kernels for v in group])
            outputs = keras.tree.flatten(
                walk(model, [tf.constant(a) for a in x] if len(x) > 1
                     else tf.constant(x[0]), record))
            goal = random_targets(outputs, seed) if targets is None else [
                np.asarray(t) for t in (targets if isinstance(targets, (list, tuple))
                                        else [targets])]
            value = (loss or mse)(goal, outputs)
    finally:
        for variable, numbers in saved:  # batch norm's moving statistics, as they were
            variable.assign(numbers)
    watched = [seen.get(id(layer), []) for layer in layers]
    sizes = [len(group) for group in watched] + [len(group) for group in kernels]
    grads = tape.gradient(value, [t for group in watched for t in group] +
                          [v.value for group in kernels for v in group],
                          unconnected_gradients=tf.UnconnectedGradients.ZERO)
    groups, start = [], 0
    for size in sizes:
        groups.append(grads[start:start + size])
        start += size
    rows = []
    for index, layer in enumerate(layers):
        mean, std, norm, dead = _stats(watched[index])
        rows.append({
            "index": index + 1, "name": layer.name, "kind": type(layer).__name__,
            "block": block_of(layer.name), "params": int(layer.count_params()),
            "signal_grad_norm": _norm(groups[index]) if watched[index] else np.nan,
            "weight_grad_norm": _norm(groups[len(layers) + index]),
            "weight_norm": _norm([v.value for v in kernels[index]]),
            "activation_mean": mean, "activation_std": std, "activation_norm": norm,
            "dead_fraction": dead})
    table = pd.DataFrame(rows, columns=COLUMNS)
    table.attrs.update(loss=float(value.numpy()), loss_description=LOSS_DESCRIPTION,
                       output_shapes=[tuple(y.shape) for y in outputs])
    return table
