"""Through time's experiments: the three cells compared, the LSTM forget-gate bias,
clipping in action, and the page's figures and sentences built from them.

Every measurement comes from core.through_time's cached pass; `measure(spec)` is the
page's one cached call. Ratios and verdicts are core.summary's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..cache import memoize
from ..spec import Spec, spec_field
from ..summary import describe_problems, summarize
from ..summary import format_number as _number
from ..through_time import (CELL_NAMES, CELLS, ThroughTimeSpec, make_weights, theory_line,
                            through_time)

FORGET_BIASES = (0.0, 1.0, 3.0, 5.0)


# ---------------------------------------------------------------- diagnosis
def diagnose(table: pd.DataFrame, spec: ThroughTimeSpec) -> dict:
    """core.summary.summarize for the steps: ratio step 1 / step T, verdict, and where
    the gradient, going back from step T, overflows, becomes nan, underflows or is
    multiplied by a zero W_hh (SimpleRNN only: LSTM and GRU carry the gradient past
    their recurrent kernel too)."""
    zero = spec.cell == "simple" and not make_weights(spec)["recurrent_kernel"].any()
    return summarize(table, position="step", forward="state_norm", zero_weights=zero,
                     forward_zero_weights=False)


def problems(table: pd.DataFrame, spec: ThroughTimeSpec) -> list[str]:
    """core.summary's sentences for the steps (empty if the gradient stayed finite)."""
    return describe_problems(diagnose(table, spec), "gradient")


def step_ratios(table: pd.DataFrame, by: str) -> dict:
    """{value of `by`: ratio step 1 / step T} for a table of several runs."""
    return {key: summarize(group, position="step")["ratio"]
            for key, group in table.groupby(by, sort=False)}


# ---------------------------------------------------------------- gates
def compare_cells(spec: ThroughTimeSpec) -> pd.DataFrame:
    """SimpleRNN, LSTM and GRU at the same settings: one row per cell and step."""
    frames = []
    for cell in CELLS:
        table = through_time(spec.replace(cell=cell))
        table.insert(0, "cell", CELL_NAMES[cell])
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def forget_bias_sweep(spec: ThroughTimeSpec, biases=FORGET_BIASES) -> pd.DataFrame:
    """LSTM at each forget-gate bias: one row per bias and step."""
    frames = []
    for bias in biases:
        table = through_time(spec.replace(cell="lstm", forget_bias=float(bias)))
        table.insert(0, "forget_bias", float(bias))
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- the page's view
def title(spec: ThroughTimeSpec) -> str:
    return (f"Gradient through time: {CELL_NAMES[spec.cell]}, {spec.activation}, "
            f"{spec.recurrent_init}, T = {spec.steps}, {spec.units} units")


def metrics(summary: dict, attrs: dict) -> list[tuple[str, str, str]]:
    """(label, value, help) of the four figures above the chart."""
    matrix = attrs["recurrent_matrix"]
    return [("Gradient ratio step 1 / step T", _number(summary["ratio"]),
             "‖d(loss)/d(h_1)‖ / ‖d(loss)/d(h_T)‖"),
            ("Verdict", summary["verdict"].capitalize(),
             "Vanishing below 1e-2, exploding above 1e2 or on overflow."),
            ("Spectral radius ρ", _number(attrs["spectral_radius"]),
             f"Largest |eigenvalue| of {matrix}."),
            ("Largest singular value", _number(attrs["largest_singular_value"]),
             f"Of {matrix}.")]


@memoize(entries=32)
def measure(spec: ThroughTimeSpec) -> dict:
    """Everything the Through time page shows for `spec`.

    table, attrs, summary (core.summary.summarize: ratio, verdict...), metrics (the
    figures above the chart), problems (sentences), theory (rho^(T-t) line for a linear SimpleRNN, else None), title;
    cells (the three cells, LSTM forget bias 1) and cells_sentence; biases (the LSTM
    forget-bias sweep) and biases_sentence.
    """
    table = through_time(spec)
    summary = diagnose(table, spec)
    linear = spec.activation == "linear" and spec.cell == "simple"
    cells = compare_cells(spec.replace(forget_bias=1.0))
    biases = forget_bias_sweep(spec)
    cell_text = ", ".join(f"**{name}** {_number(ratio)}"
                          for name, ratio in step_ratios(cells, "cell").items())
    bias_text = ", ".join(f"bias **{bias:g}** → {_number(ratio)}"
                          for bias, ratio in step_ratios(biases, "forget_bias").items())
    return {"table": table, "attrs": dict(table.attrs), "summary": summary,
            "metrics": metrics(summary, table.attrs),
            "problems": describe_problems(summary, "gradient"),
            "theory": theory_line(table, table.attrs["spectral_radius"]) if linear else None,
            "title": title(spec), "cells": cells, "biases": biases,
            "cells_sentence": f"Measured ratio step 1 / step T: {cell_text}.",
            "biases_sentence": f"Measured ratio step 1 / step T: {bias_text}."}


# ---------------------------------------------------------------- the page's words
THEORY_TEXT = (
    "**Theory** (Pascanu, Mikolov & Bengio 2013). For a linear cell, `d(loss)/d(h_t) = "
    "(W_hhᵀ)^(T−t) · d(loss)/d(h_T)`: with spectral radius ρ < 1 the gradient **vanishes** "
    "like ρ^(T−t); ρ > 1 is **needed** for it to explode. For `gain × orthogonal` every "
    "singular value equals the gain, so the dashed line is exact (choose *linear*). A "
    "saturating tanh only shrinks the gradient further: its slope is at most 1.")
GATES_TEXT = (
    "LSTM and GRU were designed for long memories, but at initialization the gates alone "
    "do **not** keep the gradient alive. Here are all three cells at the settings above "
    "(same inputs, initializer and loss; the LSTM with Keras' default forget bias 1):")
FORGET_GATE_TEXT = (
    "The LSTM's cell state is updated as `c_t = f_t ⊙ c_(t−1) + i_t ⊙ g_t`: along the cell "
    "state the gradient is multiplied by the forget gate f_t = σ(… + b_f) at each step. "
    "With b_f = 0 the gate is about 0.5 and the gradient halves every step; a larger "
    "bias opens the gate (σ(3) ≈ 0.95, σ(5) ≈ 0.99) and lets it through.")


# ---------------------------------------------------------------- clipping in action
CLIPPING_TASK = (
    "Task: remember the first number. Each sequence starts with +1 or -1, followed by "
    "noise ~ N(0, 1); the target, read from the last state through a Dense(1) layer, is "
    "that first number. Guessing 0 scores a mean squared error of 1.")
CLIPPING_TEXT = (
    "Exploding gradients are where **gradient clipping** was invented: if the gradient's "
    "global norm ‖g‖ exceeds a threshold c, rescale it to `c · g / ‖g‖` (Pascanu et al. "
    "2013; Keras: `optimizer(global_clipnorm=c)`). Train a SimpleRNN twice from the same "
    "weights on the same batches, once without and once with clipping. " + CLIPPING_TASK)
TASK_SEED, INPUT_KERNEL_SEED, RECURRENT_KERNEL_SEED, READOUT_SEED = 11, 12, 13, 14

_f = spec_field


@dataclass(frozen=True)
class ClippingSpec(Spec):
    """A short SGD training of SimpleRNN(tanh) + Dense(1), with and without clipping."""
    sequence_length: int = _f(20, "time steps of every sequence", low=2, high=100, kind=int)
    units: int = _f(32, "SimpleRNN units", low=2, high=128, kind=int)
    gain: float = _f(1.5, "recurrent kernel = gain * orthogonal", low=0.1, high=3.0,
                     kind=float)
    learning_rate: float = _f(0.1, "plain SGD learning rate", low=0.0, high=10.0,
                              kind=float, open_low=True)
    clip_norm: float = _f(1.0, "clip the global gradient norm to this", low=0.0,
                          high=1000.0, kind=float, open_low=True)
    train_steps: int = _f(200, "SGD steps of each run", low=1, high=1000, kind=int)
    batch_size: int = _f(32, "sequences per step", low=1, high=256, kind=int)
    seed: int = _f(0, "random seed for weights and data", low=0, high=2 ** 31 - 1, kind=int)


def remember_first_task(spec: ClippingSpec):
    """(inputs (steps, batch, length, 1), targets (steps, batch, 1)), float32."""
    from ..weights import layer_seed
    rng = np.random.default_rng(layer_seed(spec.seed, TASK_SEED))
    inputs = rng.standard_normal((spec.train_steps, spec.batch_size, spec.sequence_length, 1))
    first = rng.choice([-1.0, 1.0], size=(spec.train_steps, spec.batch_size, 1))
    inputs[:, :, 0, :] = first
    return inputs.astype("float32"), first.astype("float32")


def _clipping_model(spec: ClippingSpec):
    from ..tf_setup import keras
    from ..weights import layer_seed
    layers, init = keras.layers, keras.initializers

    def seed(index):
        return layer_seed(spec.seed, index)

    return keras.Sequential([
        keras.Input((spec.sequence_length, 1)),
        layers.SimpleRNN(spec.units, activation="tanh",
                         kernel_initializer=init.GlorotUniform(seed=seed(INPUT_KERNEL_SEED)),
                         recurrent_initializer=init.Orthogonal(
                             gain=spec.gain, seed=seed(RECURRENT_KERNEL_SEED))),
        layers.Dense(1, kernel_initializer=init.GlorotUniform(seed=seed(READOUT_SEED))),
    ])


def _clipped_sgd_step(model):
    """train_step(x, y, threshold, learning_rate) -> (loss, ||g|| before, ||g|| after)."""
    from ..per_layer import safe_norm
    from ..tf_setup import tf
    variables = model.trainable_variables

    @tf.function(input_signature=[tf.TensorSpec([None, None, 1], "float32"),
                                  tf.TensorSpec([None, 1], "float32"),
                                  tf.TensorSpec([], "float32"), tf.TensorSpec([], "float32")])
    def train_step(x, y, threshold, learning_rate):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x) - y))
        grads = tape.gradient(loss, variables)
        # tf.linalg.global_norm squares the entries and overflows to inf from about
        # 1.8e19 in float32 while every entry is still finite: take the safe norm.
        norm = safe_norm(tf.stack([safe_norm(grad) for grad in grads]))
        scale = tf.where(norm > threshold, threshold / norm, tf.ones_like(norm))
        for variable, grad in zip(variables, grads):
            variable.assign_sub(learning_rate * scale * grad)
        return loss, norm, norm * scale

    return train_step


def train_clipping(spec: ClippingSpec, on_step=None) -> pd.DataFrame:
    """Two runs from the same initial weights and batches: without and with clipping.

    Every step: g = d(loss)/d(weights); with clipping, if ||g|| > clip_norm then
    g <- clip_norm * g / ||g|| (global norm over all weights, Pascanu et al. 2013; Keras:
    optimizer `global_clipnorm`); then w <- w - learning_rate * g.
    Rows: run, step, loss, grad_norm_before, grad_norm_after, clipped.
    `on_step(done, total)` is called after every step (for a progress bar).
    """
    model = _clipping_model(spec)
    initial = [np.array(w) for w in model.get_weights()]
    inputs, targets = remember_first_task(spec)
    train_step = _clipped_sgd_step(model)
    runs = [("without clipping", math.inf), (f"clipped at {spec.clip_norm:g}",
                                             spec.clip_norm)]
    rows, done, total = [], 0, 2 * spec.train_steps
    for run_name, threshold in runs:
        model.set_weights(initial)
        for index in range(spec.train_steps):
            loss, before, after = train_step(inputs[index], targets[index],
                                             np.float32(threshold),
                                             np.float32(spec.learning_rate))
            before = float(before)
            rows.append({"run": run_name, "step": index + 1, "loss": float(loss),
                         "grad_norm_before": before, "grad_norm_after": float(after),
                         "clipped": bool(before > threshold)})
            done += 1
            if on_step is not None:
                on_step(done, total)
    table = pd.DataFrame(rows)
    table.attrs["clip_norm"] = spec.clip_norm
    table.attrs["spec"] = spec.to_dict()  # read by core.forensics
    return table


def clipping_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per run: fraction of steps clipped, final loss (mean of the last 10% of steps),
    largest finite gradient norm, and the first step whose loss or gradient was inf/nan."""
    out = []
    for run_name, group in table.groupby("run", sort=False):
        tail = group["loss"].iloc[-max(1, len(group) // 10):]
        norms = group["grad_norm_before"].to_numpy(dtype=np.float64)
        broken = ~(np.isfinite(group["loss"].to_numpy(dtype=np.float64)) & np.isfinite(norms))
        finite_norms = norms[np.isfinite(norms)]
        out.append({"run": run_name, "clipped_fraction": float(group["clipped"].mean()),
                    "final_loss": float(tail.mean()),
                    "largest_finite_grad_norm": float(finite_norms.max())
                    if finite_norms.size else math.nan,
                    "nonfinite_steps": int(broken.sum()),
                    "first_nonfinite_step": int(group["step"].to_numpy()[broken][0])
                    if broken.any() else None})
    return pd.DataFrame(out)


def clipping_report(spec: ClippingSpec, table: pd.DataFrame) -> dict:
    """What the page shows of two `train_clipping` runs: caption, summary (the
    `clipping_summary` table) and runs (per run: label, final_loss and the sentence)."""
    summary = clipping_summary(table)
    runs = []
    for record in summary.to_dict(orient="records"):
        text = (f"Steps clipped: **{record['clipped_fraction']:.0%}** · largest finite "
                f"‖g‖: {_number(record['largest_finite_grad_norm'])}")
        if record["nonfinite_steps"] > 0:
            text += (f" · **overflow from step {record['first_nonfinite_step']:.0f}**: the "
                     f"loss or ‖g‖ is inf/nan at {record['nonfinite_steps']} of "
                     f"{spec.train_steps} steps")
        else:
            text += " · no overflow"
        runs.append({"label": f"{record['run']}: final loss",
                     "final_loss": record["final_loss"], "text": text})
    caption = (f"Results for gain {spec.gain:g}, learning rate {spec.learning_rate:g}, "
               f"threshold {spec.clip_norm:g}, {spec.train_steps} steps, {spec.units} "
               f"units, sequences of {spec.sequence_length}.")
    return {"caption": caption, "summary": summary, "runs": runs}
