"""Your network: the zoo and the visitor's own models, measured by core.flow, by block,
diagnosed in plain words, compared in pairs, and the Keras code behind each; the skips'
scale beta (presets 1, 1/sqrt(L), 0) and what it does, measured beside theory.

Loads TensorFlow only when a computation runs.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd

from ..cache import memoize
from ..keras_model import source_of
from ..spec import ModelSpec
from ..summary import describe_problems, format_number, summarize, verdict_of
from ..theory import residual_growth
from ..zoo import CNN, TRANSFORMERS, ZooSpec, skip_count
from . import residual_scaling

CHANGE_ABOVE = 10.0  # a block across which the signal changes more than 10x is named
DEAD_ABOVE = 0.5  # a layer with more than half its units dead is named
SHOWN = 4  # blocks named in one sentence at most

# The page's comparisons: label -> the two specs (depth filled in by `pair`).
COMPARISONS = {
    "Post-LN vs Pre-LN Transformer": ("transformer_post_ln", "transformer_pre_ln", False),
    "Plain CNN vs ResNet, with batch norm": ("plain_cnn", "resnet", True),
    "Plain CNN vs ResNet, without batch norm": ("plain_cnn", "resnet", False),
}


def pair(comparison: str, depth: int, seed: int = 0) -> tuple[ZooSpec, ZooSpec]:
    """The two specs of a comparison at `depth` (blocks for transformers, 6n+2 layers
    for the CNNs), small enough for a shared server."""
    first, second, batch_norm = COMPARISONS[comparison]
    if first in TRANSFORMERS:
        return tuple(ZooSpec(architecture=a, blocks=depth, d_model=64, heads=4,
                             seq_len=16, batch_size=8, seed=seed) for a in (first, second))
    return tuple(ZooSpec(architecture=a, depth=depth, width=8, batch_norm=batch_norm,
                         batch_size=8, seed=seed) for a in (first, second))


def by_block(table: pd.DataFrame) -> pd.DataFrame:
    """One row per block (consecutive layers sharing `block`), input side first:
    the signal at the block's first layer (what leaves it going back), the root sum of
    squares of its layers' weight gradients, its layers and mean dead fraction."""
    runs = (table["block"] != table["block"].shift()).cumsum()
    squares = table["weight_grad_norm"].astype(float) ** 2
    grouped = table.assign(weight_squares=squares).groupby(runs, sort=True)
    frame = pd.DataFrame({
        "block_number": np.arange(1, grouped.ngroups + 1),
        "block": grouped["block"].first().to_numpy(),
        "first_layer": grouped["index"].first().to_numpy(),
        "last_layer": grouped["index"].last().to_numpy(),
        "signal_grad_norm": grouped["signal_grad_norm"].first().to_numpy(),
        "weight_grad_norm": np.sqrt(grouped["weight_squares"].sum().to_numpy()),
        "dead_fraction": grouped["dead_fraction"].mean().to_numpy()})
    return frame


# The skips' scale: presets of beta, as Remedies' (the URL values), L the model's skips.
SKIP_PRESETS = residual_scaling.PRESETS
SKIPS_OF = {  # what L counts, per architecture
    "mlp": "skipped hidden layers (2 to depth), each h + β·layer(h)",
    "resnet": "blocks, each relu(shortcut + β·branch)",
    "transformer_pre_ln": "sublayers (attention and feed-forward of each block), each "
                          "x + β·sublayer(LayerNorm(x))",
    "transformer_post_ln": "sublayers (attention and feed-forward of each block), each "
                           "LayerNorm(x + β·sublayer(x))"}
THEORY_CAVEAT = {  # where the model's branches depart from theory's assumptions
    "mlp": "here the branch is {activation} with {init} init: a ReLU branch (outputs ≥ 0, "
           "adding coherently to the skip) grows it faster, a saturating one (tanh, "
           "sigmoid) slower",
    "resnet": "here each branch is conv-ReLU-conv (He init) and the 2 stage changes have "
              "a 1x1 projection shortcut, so this is a guide",
    "resnet+bn": "here each branch is conv-BN-ReLU-conv-BN: batch norm makes its output "
                 "unit variance whatever its input's, so the variance grows by a fixed "
                 "amount per block instead of a factor",
    "transformer_pre_ln": "here each sublayer sees LayerNorm(x), so its output's variance "
                          "does not follow x's: the stream's variance grows by a fixed "
                          "amount per sublayer, slower than this (Xiong et al. 2020)",
    "transformer_post_ln": "here the LayerNorm after every add resets the variance to 1, "
                           "whatever β: the forward signal cannot grow across blocks"}
IDENTITY_AT_ZERO = {  # beta = 0, at initialization
    "mlp": "every skipped layer is the identity at initialization (SkipInit/ReZero): "
           "h_L = h_1, so the gradient reaches hidden layer 1 unchanged",
    "resnet": "every block whose shortcut is the identity is the identity at "
              "initialization (SkipInit/ReZero; its input comes out of a ReLU, so the "
              "block's ReLU leaves it as it is), so the gradient crosses those blocks "
              "unchanged; the 2 blocks entering stages 2 and 3 keep their 1x1 projection",
    "transformer_pre_ln": "every sublayer is the identity at initialization "
                          "(SkipInit/ReZero): the stream that reaches the final LayerNorm "
                          "is the input embeddings themselves, so the gradient reaches "
                          "the input unchanged through every block",
    "transformer_post_ln": "every block reduces to LayerNorm(x) at initialization "
                           "(SkipInit/ReZero with Post-LN): the encoder only normalizes "
                           "its input, and the gradient crosses the blocks almost "
                           "unchanged (LayerNorm of a normalized input is close to the "
                           "identity)"}
REZERO_NOTE = (
    "Fixed at 0, the branches would never train; SkipInit and ReZero make β a trained "
    "scalar that starts at 0 (Remedies trains one), whose own gradient is not 0, so "
    "training grows each branch in. Here β is fixed: this is the network at "
    "initialization.")


def skip_scale(preset: str, skips: int) -> float:
    """The preset's beta for a model with `skips` skip connections (L): Remedies' presets
    (residual_scaling.scale_of), with L counted as the model's skips."""
    return residual_scaling.scale_of(preset, max(skips, 1))


def preset_label(preset: str, skips: int) -> str:
    """'β = 1/√L = 0.333' (L = skips; without skips, the preset alone)."""
    if preset == "1/sqrt(L)" and not skips:
        return "β = 1/√L"
    return residual_scaling.preset_label(preset, skips)


def skips_note(spec: ZooSpec, mlp: ModelSpec | None = None) -> str:
    """What L counts for the spec's model, or why β does not apply to it."""
    skips = skip_count(spec, mlp)
    if skips:
        return (f"L = {skips} {SKIPS_OF[spec.architecture]}. β = 1 is the plain skip, "
                "1/√L keeps the forward variance O(1) (theory), 0 makes each the identity "
                "at initialization (SkipInit/ReZero).")
    if spec.architecture == "mlp":
        return "Turn the skips on to scale them: β applies only to skip connections."
    return f"{spec.architecture} has no skip connections: β does not apply to it."


def _squared_growth(values) -> float:
    first, last = (float(v) for v in values)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(last) ** 2 / np.float64(first) ** 2)


def skip_lines(table: pd.DataFrame, spec: ZooSpec, mlp: ModelSpec | None = None,
               branch_zeros: int = 0) -> list[str]:
    """Sentences on the skips' scale beta of a zoo model's measured table: theory's
    forward growth (1 + beta^2)^L beside what was measured where the table holds the
    stream (the mlp); at beta = 0, the identity at initialization and the branches'
    `branch_zeros` layers whose gradient beta = 0 makes exactly 0."""
    skips = skip_count(spec, mlp)
    if not skips:
        return []
    a, beta = spec.architecture, spec.residual_scale
    which = " (1/√L)" if math.isclose(beta, 1 / math.sqrt(skips)) and skips > 1 else ""
    model = mlp or spec.model_spec()
    caveat = THEORY_CAVEAT[a + ("+bn" if a == "resnet" and spec.batch_norm else "")]
    lines = [f"Skips: L = {skips}, each adding its branch times β = {format_number(beta)}"
             f"{which}. *Theory*, for a branch whose output has mean zero, is "
             "uncorrelated with its input and has its input's variance: each skip "
             f"multiplies the forward variance by 1 + β² = {format_number(1 + beta ** 2)}, "
             f"so (1 + β²)^L = {format_number(residual_growth(beta, skips))} over the L "
             f"skips; {caveat.format(activation=model.activation, init=model.init)}."]
    if a == "mlp":
        hidden = table[table["name"].str.startswith("hidden_")]
        forward = _squared_growth(hidden["activation_norm"].iloc[[0, -1]])
        backward = _squared_growth(hidden["signal_grad_norm"].iloc[[-1, 0]])
        lines.append(f"Measured over the L skipped layers: forward ‖h_L‖²/‖h_1‖² = "
                     f"{format_number(forward)}, backward ‖dLoss/dh_1‖²/‖dLoss/dh_L‖² = "
                     f"{format_number(backward)}.")
    if beta == 0:
        still = int((table["weight_grad_norm"] == 0).sum())  # the mlp's branches
        zero = (f" The {branch_zeros} layers inside the branches get exactly 0 signal "
                "and weight gradient (β = 0 multiplies their path by 0: not underflow); "
                "the lines above leave them out." if branch_zeros else
                f" Measured: {still} layers' kernels get exactly 0 gradient, since β = 0 "
                "multiplies their path by 0." if still else "")
        lines.append(f"β = 0: {IDENTITY_AT_ZERO[a]}.{zero} {REZERO_NOTE}")
    return lines


def _layers(first: int, last: int) -> str:
    return f"layer {first}" if first == last else f"layers {first}-{last}"


def diagnosis(table: pd.DataFrame, show=str, spec: ZooSpec | None = None,
              mlp: ModelSpec | None = None) -> list[str]:
    """Plain-words sentences about one flow table: the overall ratio, inf/nan/0 (from
    core.summary), blocks across which the signal changes more than 10x, dead layers,
    and the growth toward the input of deep batch-normalized nets without skips; for a
    zoo model (`spec`, and the mlp's `mlp`) with skips, their scale beta (skip_lines).
    `show(name)`: how a layer or block name is written (a page escapes a visitor's)."""
    skipped = spec is not None and skip_count(spec, mlp) > 0
    branch_zeros = 0
    if skipped and spec.residual_scale == 0:  # exact zeros made by beta, not underflow
        zeros = table["signal_grad_norm"].to_numpy(dtype=float) == 0
        branch_zeros = int(zeros.sum())
        table = table[~zeros].reset_index(drop=True)
    summary = summarize(table, position="index")
    ratio = summary["ratio"]
    lines = [f"Going back from the last layer to the first, the signal's norm is "
             f"multiplied by {format_number(ratio)} ({summary['verdict']})."]
    lines += describe_problems(summary)
    signals = table["signal_grad_norm"].to_numpy(dtype=float)
    finite = np.isfinite(signals) & (signals > 0)
    growth = math.nan
    if finite.any() and finite[-1]:
        peak = int(np.argmax(np.where(finite, signals, -np.inf)))
        growth = signals[peak] / signals[-1]
        if peak not in (0, len(table) - 1) and growth > CHANGE_ABOVE:
            row = table.iloc[peak]
            lines.append(f"It peaks at layer {row['index']} ({show(row['name'])}), "
                         f"{format_number(growth)}x the last layer's.")
    blocks = by_block(table)
    signal = blocks["signal_grad_norm"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = signal[:-1] / signal[1:]  # crossing block b going back, into b's bottom
    big = [(b, c) for b, c in enumerate(change) if np.isfinite(c) and c > 0 and
           (c > CHANGE_ABOVE or c < 1 / CHANGE_ABOVE)]
    big.sort(key=lambda item: -abs(math.log10(item[1])))
    for b, c in big[:SHOWN]:
        row = blocks.iloc[b]
        lines.append(f"Across block {show(row['block'])} ({_layers(row['first_layer'], row['last_layer'])}) "
                     f"the signal {'grows' if c > 1 else 'shrinks'} {format_number(c if c > 1 else 1 / c)}x "
                     "going back.")
    if len(big) > SHOWN:
        lines.append(f"{len(big) - SHOWN} more blocks change it more than 10x.")
    dead = table[table["dead_fraction"] > DEAD_ABOVE]
    for _, row in dead.head(SHOWN).iterrows():
        lines.append(f"Layer {row['index']} ({show(row['name'])}) has "
                     f"{row['dead_fraction']:.0%} dead units: exactly 0 for every example.")
    if len(dead) > SHOWN:
        lines.append(f"{len(dead) - SHOWN} more layers are more than half dead.")
    if (table["kind"] == "BatchNormalization").any() and np.isfinite(growth) and \
            growth > 100:
        lines.append("The signal grows toward the input in a network with batch norm: "
                     "deep batch-normalized nets without skip connections do this "
                     "(Yang et al. 2019); residual connections keep it bounded.")
    if skipped:
        lines += skip_lines(table, spec, mlp, branch_zeros)
    return lines


def compare_story(label: str, first: pd.DataFrame, second: pd.DataFrame,
                  names: tuple[str, str]) -> str:
    """What the two measured tables say about the literature's claim."""
    if "Transformer" in label:
        def spread(table):  # last block's weight gradient / first block's
            blocks = by_block(table)
            inner = blocks[blocks["block"].str.startswith("block_")]
            return inner["weight_grad_norm"].iloc[-1] / inner["weight_grad_norm"].iloc[0]
        a, b = spread(first), spread(second)
        return (f"Measured: in {names[0]} the last block's weight gradient is "
                f"{format_number(a)}x the first block's, in {names[1]} "
                f"{format_number(b)}x. Xiong et al. (2020): Post-LN's gradients are "
                "largest near the output, which is why it needs a learning-rate warm-up; "
                "Pre-LN's are even across blocks and train without one.")
    ratios = [summarize(t.iloc[:-1], position="index")["ratio"] for t in (first, second)]
    return (f"Measured: from the last convolution back to the first, the signal is "
            f"multiplied by {format_number(ratios[0])} in {names[0]} and by "
            f"{format_number(ratios[1])} in {names[1]} "
            f"({verdict_of(ratios[0], False, False)} vs "
            f"{verdict_of(ratios[1], False, False)}). Yang et al. (2019): a deep plain "
            "network with batch norm has gradients that grow toward the input; residual "
            "connections keep them bounded.")


def combined(tables, names) -> pd.DataFrame:
    """The tables of a comparison in one, labelled by a `network` column (the CSV)."""
    return pd.concat([table.assign(network=name) for name, table in zip(names, tables)],
                     ignore_index=True)


@memoize(entries=8)
def _uploaded(kind: str, data: bytes, digest: str, batch_size: int, seed: int,
              batch: bytes | None):
    from ..flow import flow
    from ..user_model import check_budget, load_batch, load_keras_file, load_model_json
    model = load_keras_file(data) if kind == "keras" else load_model_json(data.decode())
    x, y = load_batch(batch, model) if batch else (None, None)
    check_budget(model, len(x) if x is not None else batch_size)
    table = flow(model, x, y, batch_size=batch_size, seed=seed)
    table.attrs.update(model_name=model.name, total_params=int(model.count_params()))
    return table


def measure_upload(kind: str, data: bytes, batch_size: int = 8, seed: int = 0,
                   batch: bytes | None = None) -> pd.DataFrame:
    """core.flow of a visitor's model (`kind` 'keras' for a .keras file's bytes, 'json'
    for model.to_json() text), on random inputs or the .npz `batch`. Cached by content;
    the model itself is not kept. Raises core.user_model.ModelRefused."""
    digest = hashlib.sha256(data + (batch or b"")).hexdigest()
    return _uploaded(kind, data, digest, batch_size, seed, batch)


def keras_code(spec: ZooSpec, mlp: ModelSpec | None = None) -> str:
    """Runnable code that builds the spec's model and measures it. For the zoo's own
    networks the measurement is a plain tf.GradientTape over every weighted layer's
    output; the mlp's is the pages' own script (core.keras_model.keras_code, the
    profile's table, of `mlp`, default spec.model_spec()); keras.applications (nested
    models) are measured with core.flow."""
    from .. import zoo_models
    a = spec.architecture
    if a == "mlp":
        from ..keras_model import keras_code as mlp_code
        return mlp_code(mlp or spec.model_spec())
    if a not in CNN + TRANSFORMERS + ("lstm",):
        return (f"from core.zoo import ZooSpec, build\nfrom core.flow import flow\n\n"
                f"spec = ZooSpec(**{spec.to_dict()!r})\nmodel = build(spec)  # "
                f"see core/zoo_models.py\nprint(flow(model, batch_size={spec.batch_size}, "
                f"seed={spec.seed}).to_string())\n")
    if a in CNN:
        builder, call = zoo_models.cifar_cnn, (
            f"cifar_cnn(depth={spec.layers}, width={spec.units}, residual={a == 'resnet'}, "
            f"batch_norm={spec.batch_norm}, image_size={spec.image_size}"
            + (f", residual_scale={spec.residual_scale!r})" if a == "resnet" else ")"))
    elif a in TRANSFORMERS:
        builder, call = zoo_models.transformer, (
            f"transformer(blocks={spec.blocks}, d_model={spec.d_model}, heads={spec.heads}, "
            f"seq_len={spec.seq_len}, pre_ln={a.endswith('pre_ln')}, "
            f"residual_scale={spec.residual_scale!r})")
    else:
        builder, call = zoo_models.lstm_stack, (
            f"lstm_stack(depth={spec.layers}, width={spec.units}, seq_len={spec.seq_len})")
    return f'''import random

import keras
import numpy as np
import tensorflow as tf
from keras import layers


{source_of(builder)}

random.seed({spec.seed})  # unseeded Keras initializers draw their seeds from here
model = {call}
seed, batch_size = {spec.seed}, {spec.batch_size}
shape = (batch_size,) + tuple(model.inputs[0].shape[1:])
x = np.random.default_rng([seed, 13]).normal(0.0, 1.0, shape).astype("float32")
weighted = [layer for layer in model.layers if layer.weights]
probe = keras.Model(model.inputs, [layer.output for layer in weighted])
with tf.GradientTape() as tape:
    outputs = probe([x], training=True)  # batch norm: the batch's statistics
    target = np.random.default_rng([seed, 2026]).normal(0.0, 1.0, outputs[-1].shape)
    loss = tf.reduce_mean(tf.square(outputs[-1] - target))  # every output position
signals = tape.gradient(loss, outputs)
for index, (layer, signal) in enumerate(zip(weighted, signals), start=1):
    print(index, layer.name, float(tf.norm(tf.cast(signal, tf.float64))))
'''
