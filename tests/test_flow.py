"""core.flow against a plain hand-written tf.GradientTape on small Keras models."""
import numpy as np
import pytest

from core.flow import block_of, check_inputs, flow, random_inputs, random_targets
from core.summary import describe_problems, summarize
from core.tf_setup import keras, tf

L = keras.layers


def hand_written(model, x, inner=None):
    """(per weighted layer: signal norm, kernel grad norm, output std) by a plain tape
    over an auxiliary model whose outputs are every weighted layer's output. `inner`: a
    nested functional model that is the first layer of a Sequential `model`."""
    source = inner or model
    weighted = [layer for layer in source.layers if layer.weights]
    probe = keras.Model(source.inputs, [layer.output for layer in weighted])
    rest = [layer for layer in model.layers if layer is not inner] if inner else []
    with tf.GradientTape() as tape:
        hidden = probe([x], training=True)
        y = hidden[-1]
        for layer in rest:
            y = layer(y)
            hidden.append(y)
        target = random_targets([y])[0]
        loss = tf.reduce_mean(tf.square(y - target))
    layers = weighted + [layer for layer in rest if layer.weights]
    kernels = [[v for v in layer.trainable_weights if "kernel" in v.name] or
               layer.trainable_weights for layer in layers]
    grads = tape.gradient(loss, hidden + [v for k in kernels for v in k])
    signal = [np.linalg.norm(np.asarray(g, np.float64)) for g in grads[:len(hidden)]]
    flat, kernel_norms = grads[len(hidden):], []
    for group in kernels:
        part, flat = flat[:len(group)], flat[len(group):]
        kernel_norms.append(np.sqrt(sum(np.sum(np.square(np.asarray(g, np.float64)))
                                        for g in part)))
    std = [float(np.std(np.asarray(h, np.float64))) for h in hidden]
    return np.array(signal), np.array(kernel_norms), np.array(std), float(loss)


def check(model, x, inner=None):
    table = flow(model, x)
    signal, kernel, std, loss = hand_written(model, x, inner)
    assert len(table) == len(signal)
    np.testing.assert_allclose(table["signal_grad_norm"], signal, rtol=1e-9)
    np.testing.assert_allclose(table["weight_grad_norm"], kernel, rtol=1e-9)
    np.testing.assert_allclose(table["activation_std"], std, rtol=1e-6)
    assert table.attrs["loss"] == pytest.approx(loss, rel=1e-6)
    return table


def test_sequential_dense_stack_rows_in_order_with_kinds():
    model = keras.Sequential([keras.Input((6,)), L.Dense(8, activation="relu", name="a"),
                              L.Dense(8, activation="tanh", name="b"),
                              L.Dense(3, name="readout")])
    x = random_inputs(model, 5)
    table = check(model, x[0])
    assert list(table["name"]) == ["a", "b", "readout"]
    assert list(table["kind"]) == ["Dense"] * 3
    assert list(table["index"]) == [1, 2, 3]
    assert list(table["params"]) == [56, 72, 27]


def test_functional_residual_add_and_batch_norm_in_training_mode():
    inputs = keras.Input((8,))
    h = L.Dense(8, activation="relu", name="d1")(inputs)
    z = L.BatchNormalization(name="bn")(L.Dense(8, name="d2")(h))
    h = L.Add()([h, L.Activation("relu")(z)])
    model = keras.Model(inputs, L.Dense(2, name="readout")(h))
    before = [v.numpy() for v in model.non_trainable_variables]
    flow(model, batch_size=16)
    for old, new in zip(before, model.non_trainable_variables):  # moving stats restored
        np.testing.assert_array_equal(old, new.numpy())
    table = check(model, random_inputs(model, 16)[0])
    # batch statistics: the normalized output has mean 0 over the batch
    assert abs(table.loc[2, "activation_mean"]) < 1e-6
    # BN has no kernel: its weight gradient is over gamma and beta
    assert table.loc[2, "kind"] == "BatchNormalization"


def test_transformer_block_with_attention_and_layer_norm():
    inputs = keras.Input((5, 8))
    attended = L.MultiHeadAttention(num_heads=2, key_dim=4, name="block_1_attention")(
        inputs, inputs)
    h = L.LayerNormalization(name="block_1_norm_1")(L.Add()([inputs, attended]))
    h = L.Dense(8, name="block_1_ffn_1", activation="relu")(h)
    model = keras.Model(inputs, h)
    table = check(model, random_inputs(model, 3)[0])
    assert list(table["kind"]) == ["MultiHeadAttention", "LayerNormalization", "Dense"]
    assert list(table["block"]) == ["block_1"] * 3


def test_convolution_and_recurrent_layers():
    conv = keras.Sequential([keras.Input((8, 8, 2)), L.Conv2D(4, 3, activation="relu"),
                             L.GlobalAveragePooling2D(), L.Dense(2)])
    check(conv, random_inputs(conv, 3)[0])
    recurrent = keras.Sequential([keras.Input((6, 3)), L.LSTM(5, return_sequences=True),
                                  L.GRU(4, return_sequences=True), L.Dense(2)])
    table = check(recurrent, random_inputs(recurrent, 3)[0])
    assert list(table["kind"]) == ["LSTM", "GRU", "Dense"]
    # every position of the final output is in the loss
    assert table.attrs["output_shapes"] == [(3, 6, 2)]


def test_nested_model_is_flattened_into_its_layers():
    inner_inputs = keras.Input((6,))
    inner = keras.Model(inner_inputs, L.Dense(4, name="inner_2")(
        L.Dense(5, activation="relu", name="inner_1")(inner_inputs)), name="inner")
    model = keras.Sequential([keras.Input((6,)), inner, L.Dense(3, name="readout")])
    table = check(model, random_inputs(model, 4)[0], inner=inner)
    assert list(table["name"]) == ["inner_1", "inner_2", "readout"]


def test_dead_units_and_inf_and_zero_stay_in_the_table():
    model = keras.Sequential([keras.Input((4,)), L.Dense(4, activation="relu", name="dead",
                                                         kernel_initializer="zeros",
                                                         bias_initializer="zeros"),
                              L.Dense(2, name="readout", bias_initializer="ones")])
    table = flow(model, batch_size=4)
    assert table.loc[0, "dead_fraction"] == 1.0
    assert table.loc[1, "dead_fraction"] == 0.0
    assert table.loc[0, "signal_grad_norm"] > 0  # the signal reaches the dead layer ...
    assert table.loc[0, "weight_grad_norm"] == 0  # ... but ReLU's slope 0 stops it
    huge = keras.Sequential([keras.Input((4,)), L.Dense(4, kernel_initializer=keras.
                                                        initializers.Constant(1e30)),
                             L.Dense(4, kernel_initializer=keras.initializers.Constant(
                                 1e30))])
    table = flow(huge, batch_size=2)
    assert np.isinf(table["activation_norm"].iloc[-1])
    assert not np.isfinite(table["signal_grad_norm"]).all()
    lines = describe_problems(summarize(table, position="index"))
    assert any("forward signal overflows to inf at layer 2" in line for line in lines)


def test_inputs_are_checked_and_bad_models_refused():
    model = keras.Sequential([keras.Input((4,)), L.Dense(2)])
    with pytest.raises(ValueError, match=r"takes \(batch, 4\)"):
        check_inputs(model, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="subclassed"):
        class Custom(keras.Model):
            def call(self, x):
                return x
        flow(Custom())
    no_weights = keras.Sequential([keras.Input((4,)), L.Activation("relu")])
    with pytest.raises(ValueError, match="no layer with weights"):
        flow(no_weights)


def test_same_seed_same_table_and_dropout_off():
    model = keras.Sequential([keras.Input((4,)), L.Dense(8), L.Dropout(0.5), L.Dense(2)])
    first, second = flow(model, seed=3), flow(model, seed=3)
    np.testing.assert_array_equal(first["signal_grad_norm"], second["signal_grad_norm"])
    assert not np.array_equal(first["signal_grad_norm"],
                              flow(model, seed=4)["signal_grad_norm"])


def test_integer_inputs_for_embeddings():
    model = keras.Sequential([keras.Input((7,), dtype="int32"), L.Embedding(11, 4),
                              L.Dense(2)])
    (tokens,) = random_inputs(model, 5)
    assert tokens.dtype == np.int32 and tokens.max() < 11
    table = flow(model)
    assert list(table["kind"]) == ["Embedding", "Dense"]
    assert table.loc[0, "weight_grad_norm"] > 0


@pytest.mark.parametrize("name, block", [
    ("conv2_block1_1_conv", "conv2_block1"), ("block_3_attention", "block_3"),
    ("block2a_expand_conv", "block2a"), ("block1_conv1", "block1"),
    ("stage_2_block_1_conv_1", "stage_2_block_1"), ("hidden_4", "hidden_4"),
    ("readout", "readout")])
def test_block_of_reads_the_layer_name(name, block):
    assert block_of(name) == block


def test_float64_norms_do_not_overflow_where_the_entries_are_finite():
    """A float64 kernel of 1e200 entries: its squares overflow float64, its norm does not
    (scaled by the largest entry first, as core.per_layer.safe_norm)."""
    dense = keras.layers.Dense(3, dtype="float64", name="huge")
    model = keras.Sequential([keras.Input((2,), dtype="float64"), dense])
    dense.set_weights([np.full((2, 3), 1e200), np.zeros(3)])
    table = flow(model, np.ones((4, 2)), np.zeros((4, 3)))
    assert table["weight_norm"][0] == pytest.approx(1e200 * np.sqrt(6), rel=1e-12)
    assert table["activation_norm"][0] == pytest.approx(2e200 * np.sqrt(12), rel=1e-12)
    assert table["activation_mean"][0] == pytest.approx(2e200, rel=1e-12)
