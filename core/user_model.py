"""Bring your own model: load it safely, check it fits the budgets, read its batch.

Everything a visitor sends is data, never code: a `.keras` file is loaded with Keras'
safe mode (no Lambda layers, no Python code), model JSON is deserialized the same way,
and a batch comes as an `.npz` file read with `allow_pickle=False`. Each function raises
`ModelRefused` (a ValueError) with a message fit to show as it is.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile

import numpy as np

MAX_FILE_BYTES = 50 * 2 ** 20  # a .keras file, model JSON or .npz batch
MAX_PARAMS = 2 ** 25  # 33.5 million weights: ResNet50 (25.6 M) fits, VGG16's top does not
# Multiply-adds of one forward pass (see estimate_work): ResNet50 at 64x64, batch 8 is
# 2.7e9; one forward and backward pass at the budget takes a few seconds on two cores.
MAX_WORK = 2 ** 33
FREE_DIMENSION = 16  # the size a free (None) input dimension takes, as in core.flow
ALLOWED_MODULES = ("keras", "core.zoo_models")  # Keras, and the zoo's Hidden layer


class ModelRefused(ValueError):
    """A model, file or batch that cannot be measured; the message says why."""


def _check_size(size: int, what: str) -> None:
    if size > MAX_FILE_BYTES:
        raise ModelRefused(f"the {what} is {size / 2 ** 20:.1f} MB, over the limit of "
                           f"{MAX_FILE_BYTES // 2 ** 20} MB")


def _check_config(config) -> None:
    """Refuse a config naming a module outside Keras before Keras reads it."""
    if isinstance(config, dict):
        module = config.get("module")
        if isinstance(module, str) and not module.startswith(ALLOWED_MODULES):
            raise ModelRefused(f"the model uses code from outside Keras ({module!r}); "
                               "only Keras' own layers can be loaded")
        if config.get("class_name") in ("Lambda", "TFSMLayer"):
            raise ModelRefused("the model has a Lambda layer (Python code), which safe "
                               "mode refuses; rebuild it with Keras' own layers")
        for value in config.values():
            _check_config(value)
    elif isinstance(config, list):
        for value in config:
            _check_config(value)


def _refused(error: Exception) -> ModelRefused:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return ModelRefused(f"Keras could not load this model: {text[:300]}")


def load_model_json(text: str):
    """A model from `model.to_json()` (random initial weights), in safe mode."""
    from .tf_setup import keras
    from . import zoo_models  # noqa: F401 - registers the zoo's Hidden layer
    _check_size(len(text.encode()), "model JSON")
    try:
        config = json.loads(text)
    except ValueError as error:
        raise ModelRefused(f"this is not JSON: {error}") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ModelRefused("this JSON is not a Keras model (from model.to_json())")
    _check_config(config)
    try:
        model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except Exception as error:
        raise _refused(error) from None
    return _checked_model(model)


def load_keras_file(data: bytes):
    """A model from the bytes of a `.keras` file, in safe mode."""
    from .tf_setup import keras
    from . import zoo_models  # noqa: F401 - registers the zoo's Hidden layer
    _check_size(len(data), ".keras file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, ValueError):
        raise ModelRefused("this is not a .keras file (a zip archive with config.json, "
                           "as model.save('model.keras') writes)") from None
    _check_config(config)
    handle, path = tempfile.mkstemp(suffix=".keras")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except ModelRefused:
        raise
    except Exception as error:
        raise _refused(error) from None
    finally:
        os.remove(path)
    return _checked_model(model)


def _checked_model(model):
    from .flow import check_supported
    from .tf_setup import keras
    if not isinstance(model, keras.Model):
        raise ModelRefused(f"this is a {type(model).__name__}, not a Keras model")
    try:
        check_supported(model)
    except ValueError as error:
        raise ModelRefused(str(error)) from None
    return model


def _size(shape) -> int:
    return int(np.prod([FREE_DIMENSION if n is None else n for n in shape]))


def estimate_work(model, batch_size: int) -> float:
    """Multiply-adds of one forward pass, estimated: for each layer with weights, its
    kernel's size times the positions it is applied at (the output's positions for a
    convolution or Dense layer, the time steps for a recurrent layer), plus the
    attention scores of an attention layer (2 x length² x width), times the batch."""
    from .flow import kernel_variables, weighted_layers
    from .tf_setup import keras
    total = 0.0
    for layer in weighted_layers(model):
        kernel = sum(_size(v.shape) for v in kernel_variables(layer))
        try:
            out_shape = tuple(keras.tree.flatten(layer.output)[0].shape)
            in_shape = tuple(keras.tree.flatten(layer.input)[0].shape)
        except (AttributeError, ValueError):  # a shared layer: no single output
            out_shape = in_shape = (None, 1)
        if isinstance(layer, keras.layers.RNN):  # LSTM, GRU, SimpleRNN
            positions = _size(in_shape[1:2])
        else:
            positions = _size(out_shape[1:-1]) if len(out_shape) > 2 else 1
        total += kernel * positions
        if isinstance(layer, keras.layers.MultiHeadAttention):
            total += 2 * _size(out_shape[1:-1]) ** 2 * _size(out_shape[-1:])
    return total * batch_size


def check_budget(model, batch_size: int) -> dict:
    """params and work of one pass; ModelRefused if over MAX_PARAMS or MAX_WORK."""
    params = int(model.count_params())
    if params > MAX_PARAMS:
        raise ModelRefused(f"the model has {params:,} weights, over the budget of "
                           f"{MAX_PARAMS:,}")
    work = estimate_work(model, batch_size)
    if work > MAX_WORK:
        raise ModelRefused(f"one pass at batch size {batch_size} is about {work:.3g} "
                           f"multiply-adds, over the work budget of {MAX_WORK:.3g}: use "
                           "a smaller batch or input")
    return {"params": params, "work": work}


def load_batch(data: bytes, model) -> tuple:
    """(x, y or None) from an .npz file with array `x` (and optionally `y`), checked
    against the model's input (and output) shape."""
    from .flow import check_inputs
    _check_size(len(data), ".npz batch")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            found = {name: arrays[name] for name in arrays.files}
    except Exception:
        raise ModelRefused("this is not an .npz file of plain arrays (np.savez('batch."
                           "npz', x=..., y=...); object arrays are refused)") from None
    if "x" not in found:
        raise ModelRefused(f"the .npz file has no array named x (it has "
                           f"{', '.join(found) or 'none'})")
    if len(model.inputs) != 1:
        raise ModelRefused("a batch file can feed a model with one input only")
    try:
        (x,) = check_inputs(model, found["x"])
    except ValueError as error:
        raise ModelRefused(f"x: {error}") from None
    if not np.issubdtype(x.dtype, np.integer) and not np.isfinite(x).all():
        raise ModelRefused("x holds inf or nan")
    y = found.get("y")
    if y is not None:
        expected = tuple(model.outputs[0].shape[1:])
        fits = len(model.outputs) == 1 and y.ndim == len(expected) + 1 and \
            len(y) == len(x) and all(n is None or n == m
                                     for n, m in zip(expected, y.shape[1:]))
        if not fits:
            raise ModelRefused(f"y has shape {y.shape}, but the model's output for "
                               f"{len(x)} examples is ({len(x)}, "
                               f"{', '.join(map(str, expected))})")
        if not np.issubdtype(y.dtype, np.number) or not np.isfinite(y).all():
            raise ModelRefused("y must be finite numbers")
    return x, y
