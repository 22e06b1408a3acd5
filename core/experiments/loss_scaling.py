"""Remedies' loss scaling: the same network trained in float32, under Keras'
mixed_float16 policy, and under mixed_float16 with keras.optimizers.LossScaleOptimizer.

In float16 a gradient entry smaller than half the smallest subnormal (2^-25, 3e-8)
rounds to exactly 0, so the deep layers of a vanishing network stop learning for real.
Loss scaling multiplies the loss (and so every gradient on the way back) by a dynamic
scale, 2^15 at first, and divides the weight gradients by it in float32, after the
float16 backward pass. The network is Remedies' vanishing baseline (10 sigmoid layers,
'standard' init), whose first layers' gradients are 1e-9 to 1e-6.

Training is core.training's (the `mixed_precision` and `loss_scaling` fields of
TrainingSpec: per-layer dtype policies, never the global policy); the tables here are
read from its recorded columns `zero_grad_fraction` and `loss_scale`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..summary import float_limits, format_number
from .remedies import SCENARIOS, trained_in

FLOAT32, MIXED, SCALED = ("float32", "mixed_float16",
                          "mixed_float16 + LossScaleOptimizer")
STEPS = 200
DESCRIPTION = (
    "Practitioners train in **float16** to halve memory and time. There the vanishing "
    "gradient stops being a metaphor: float16's smallest positive number is about 6e-8 "
    "(its smallest subnormal), and a gradient entry below half of it is rounded to "
    "exactly 0, so that weight never moves. Below, Remedies' vanishing baseline (10 "
    "sigmoid layers, 'standard' init) is trained three ways on the same seed and data: "
    "in float32; with every hidden layer given Keras' `mixed_float16` dtype policy "
    "(float16 arithmetic, float32 weights); and the same with its optimizer wrapped in "
    "`keras.optimizers.LossScaleOptimizer`, which multiplies the loss by a scale "
    "(2^15 at first) before the backward pass and divides the gradients by it after. "
    "The dtype policy is passed to each layer (`dtype=\"mixed_float16\"`); the global "
    "policy is never set.")


def runs(steps: int | None = None) -> dict:
    """label -> (ModelSpec, TrainingSpec): the three runs, the same network and seed,
    `steps` long (STEPS by default)."""
    steps = steps or STEPS
    _, model, training, _ = SCENARIOS["vanishing"]
    training = training.replace(steps=steps, eval_every=max(steps // 10, 1))
    return {FLOAT32: (model, training),
            MIXED: (model, training.replace(mixed_precision=True)),
            SCALED: (model, training.replace(mixed_precision=True, loss_scaling=True))}


def zero_fractions(tables: dict) -> pd.DataFrame:
    """Per run and hidden layer: the fraction of the kernel's gradient entries that are
    exactly 0, averaged over the steps (and at step 1)."""
    frames = []
    for label, table in tables.items():
        per_layer = table.groupby("layer")["zero_grad_fraction"]
        first = table[table["step"] == 1].set_index("layer")["zero_grad_fraction"]
        frames.append(pd.DataFrame({"run": label, "layer": per_layer.mean().index,
                                    "zero_grad_fraction": per_layer.mean().to_numpy(),
                                    "zero_grad_fraction_step_1":
                                        first.reindex(per_layer.mean().index).to_numpy()}))
    return pd.concat(frames, ignore_index=True)


def loss_scales(tables: dict) -> pd.DataFrame:
    """Per run and step: the loss scale the step used (1 without loss scaling) and
    whether its gradients overflowed (LossScaleOptimizer then skips the step and halves
    the scale)."""
    frames = []
    for label, table in tables.items():
        steps = table.groupby("step", sort=True).first()
        frames.append(pd.DataFrame({
            "run": label, "step": steps.index.to_numpy(),
            "loss_scale": steps["loss_scale"].to_numpy(dtype=np.float64),
            "overflowed": ~np.isfinite(steps["global_grad_norm"].to_numpy(np.float64))}))
    return pd.concat(frames, ignore_index=True)


def scale_text(scale: float) -> str:
    """32,768 (2^15): a loss scale, which Keras keeps a power of 2."""
    power = np.log2(scale)
    whole = f"{scale:,.0f}" if scale >= 1 else format_number(scale)
    return f"{whole} (2^{power:.0f})" if power == round(power) else whole


def facts(tables: dict) -> str:
    """What the runs measured, in sentences: zero-gradient fractions of the first layers,
    the loss scale, and why float32 has zeros too."""
    zeros = zero_fractions(tables).pivot(index="layer", columns="run",
                                         values="zero_grad_fraction")
    limits = float_limits("float16")
    parts = []
    if MIXED in zeros:
        dead = zeros.index[zeros[MIXED] >= 0.99].tolist()
        parts.append(
            f"Under mixed_float16 without loss scaling, "
            + (f"layers {dead[0]} to {dead[-1]} had every gradient entry exactly 0 "
               f"(underflow: below half float16's smallest subnormal "
               f"{format_number(limits['smallest_subnormal'])}), so they never learned"
               if len(dead) > 1 else
               f"{zeros[MIXED].iloc[0]:.0%} of layer 1's gradient entries were exactly 0")
            + ".")
    if SCALED in zeros:
        scales = loss_scales({SCALED: tables[SCALED]})
        skipped = int(scales["overflowed"].sum())
        parts.append(
            f"With LossScaleOptimizer, layer 1 had {zeros[SCALED].iloc[0]:.0%} zeros "
            f"(scale {scale_text(scales['loss_scale'].iloc[0])} at step 1, "
            f"{scale_text(scales['loss_scale'].iloc[-1])} at the last step; "
            f"{skipped} step{'s' if skipped != 1 else ''} skipped for overflow).")
    if FLOAT32 in zeros:
        parts.append(
            f"float32 has {zeros[FLOAT32].iloc[0]:.0%} zeros in layer 1 too: pixels blank "
            "in every image of a batch are inputs of exactly 0, which multiply their "
            "weights' gradients by zero (not underflow).")
    return "Measured here: " + " ".join(parts) + " " + trained_in(tables)


def keras_code(steps: int | None = None) -> str:
    """Runnable plain-Keras code of the three runs: per-layer dtype policies (the global
    policy is never set), LossScaleOptimizer in a custom loop, and the zero-gradient
    fraction per layer printed. Its own draws of weights and batches: the same picture
    as the section's, not the same digits."""
    return f'''import numpy as np
import keras
import tensorflow as tf
from keras import layers
from sklearn.datasets import load_digits

digits = load_digits()
x_all, y_all = (digits.data / 16.0).astype("float32"), digits.target.astype("int32")
DEPTH, WIDTH, STEPS = 10, 64, {steps or STEPS}


def build(policy):
    """10 sigmoid layers, 'standard' init U[-1/8, 1/8]; `policy` given to each hidden
    layer (never keras.config.set_dtype_policy); logits and loss stay float32."""
    inputs = keras.Input((64,))
    h = inputs
    for layer in range(1, DEPTH + 1):
        h = layers.Dense(WIDTH, activation="sigmoid", dtype=policy,
                         kernel_initializer=keras.initializers.RandomUniform(
                             -0.125, 0.125, seed=layer))(h)
    return keras.Model(inputs, layers.Dense(10, dtype="float32")(h))


def train(policy, loss_scaling):
    model = build(policy)
    optimizer = keras.optimizers.SGD(learning_rate=0.1)
    if loss_scaling:  # multiplies the loss by 2^15 at first, halves it on overflow
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    optimizer.build(model.trainable_variables)
    rng = np.random.default_rng(0)
    zeros = np.zeros(DEPTH)
    for step in range(STEPS):
        batch = rng.choice(len(x_all), 64, replace=False)
        with tf.GradientTape() as tape:
            logits = model(x_all[batch], training=True)
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
                y_all[batch], logits, from_logits=True))
            scaled = optimizer.scale_loss(loss) if loss_scaling else loss
        grads = tape.gradient(scaled, model.trainable_variables)
        kernels = grads[0:2 * DEPTH:2]  # (kernel, bias) per hidden layer
        zeros += [float(tf.reduce_mean(tf.cast(tf.equal(g, 0), tf.float32)))
                  for g in kernels]
        optimizer.apply(grads, model.trainable_variables)  # unscales, skips on inf
    return zeros / STEPS


for label, policy, scaling in [("float32", "float32", False),
                               ("mixed_float16", "mixed_float16", False),
                               ("mixed_float16 + LossScaleOptimizer", "mixed_float16",
                                True)]:
    print(label, " ".join(f"{{share:.3f}}" for share in train(policy, scaling)))
'''
