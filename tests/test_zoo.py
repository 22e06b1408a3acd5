"""core.zoo: the spec's checks, reproducible builds, names that say where a layer sits."""
import numpy as np
import pytest

from core.per_layer import profile
from core.zoo import ARCHITECTURES, SKIPPED, ZooSpec, build, flow_of, skip_count


@pytest.mark.parametrize("changes, words", [
    (dict(architecture="resnet", depth=21), r"6n\+2"),
    (dict(architecture="plain_cnn", depth=2), r"6n\+2"),
    (dict(architecture="transformer_pre_ln", d_model=30, heads=4), "must divide"),
    (dict(architecture="lstm", depth=40), "at most 16"),
    (dict(architecture="alexnet"), "architecture must be one of"),
    (dict(architecture="mlp", depth=200, width=512, batch_size=256), "budget"),
    (dict(residual_scale=-0.5), "residual_scale must be a number from 0 to 10"),
    (dict(residual_scale=11), "residual_scale must be"),
    (dict(residual_scale=float("nan")), "residual_scale must be"),
    (dict(residual_scale="0.5"), "residual_scale must be"),
])
def test_bad_specs_are_refused_by_name(changes, words):
    with pytest.raises(ValueError, match=words):
        ZooSpec(**changes)


def test_same_spec_same_weights_and_another_seed_others():
    spec = ZooSpec(architecture="transformer_post_ln", blocks=1, d_model=16, heads=2)
    first, second = build(spec), build(spec)
    for a, b in zip(first.weights, second.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    other = build(spec.replace(seed=1))
    assert not np.array_equal(first.weights[0].numpy(), other.weights[0].numpy())
    # query, key and value projections are drawn apart, not copies of one draw
    attention = first.get_layer("block_1_attention")
    query, key = [v.numpy() for v in attention.weights if v.name == "kernel"][:2]
    assert not np.array_equal(query, key)


def test_transformer_layer_names_and_kinds():
    table = flow_of(ZooSpec(architecture="transformer_post_ln", blocks=2, d_model=16,
                            heads=2, seq_len=4, batch_size=2))
    assert list(table["name"][:5]) == ["block_1_attention", "block_1_norm_1",
                                       "block_1_ffn_1", "block_1_ffn_2", "block_1_norm_2"]
    assert list(table["kind"][:2]) == ["MultiHeadAttention", "LayerNormalization"]
    assert table["name"].iloc[-1] == "readout"
    assert table.attrs["output_shapes"] == [(2, 4, 16)]  # every position in the loss
    pre = flow_of(ZooSpec(architecture="transformer_pre_ln", blocks=2, d_model=16,
                          heads=2, seq_len=4, batch_size=2))
    assert list(pre["name"][:2]) == ["block_1_norm_1", "block_1_attention"]
    assert list(pre["name"][-2:]) == ["final_norm", "readout"]


def test_cifar_networks_have_6n_plus_2_layers():
    plain = flow_of(ZooSpec(architecture="plain_cnn", depth=14, width=4, batch_size=2))
    assert len(plain) == 14  # 13 convolutions and the readout
    assert list(plain["block"][1:3]) == ["stage_1_block_1"] * 2
    normed = flow_of(ZooSpec(architecture="resnet", depth=8, width=4, batch_size=2,
                             batch_norm=True))
    kinds = normed["kind"].value_counts()
    assert kinds["Conv2D"] == 7 + 2 and kinds["BatchNormalization"] == 7  # 2 shortcuts


@pytest.mark.parametrize("changes", [
    dict(activation="relu", init="he_normal", batch_norm=True, residual=True),
    dict(activation="tanh", residual=True, residual_scale=0.1),
    dict(activation="tanh", bias_stddev=0.1, input_dim=12),
    dict(activation="leaky_relu", negative_slope=0.2, no_bias=True, init="orthogonal")])
def test_mlp_flow_gives_the_profile_numbers(changes):
    """The zoo's mlp holds the profile's weights: flow on it, fed the profile's data,
    prints core.profile's numbers, with batch norm and skips."""
    batch_norm = changes.pop("batch_norm", False)
    spec = ZooSpec(architecture="mlp", depth=5, width=16, batch_size=8,
                   batch_norm=batch_norm, seed=2)
    model_spec = spec.model_spec(**changes)
    model = build(spec, model_spec)
    assert [layer.name for layer in model.layers[1:]] == \
        ["hidden_1", "hidden_2", "hidden_3", "hidden_4", "hidden_5", "readout"]
    table = flow_of(spec, model_spec)
    reference = profile(model_spec)
    for column in ("signal_grad_norm", "weight_grad_norm", "weight_norm",
                   "activation_mean", "activation_std", "activation_norm",
                   "dead_fraction"):
        np.testing.assert_allclose(table[column][:5], reference[column], rtol=1e-5,
                                   atol=1e-7, err_msg=column)
    assert table.attrs["loss"] == pytest.approx(reference.attrs["loss"], rel=1e-5)


def test_every_architecture_is_described():
    for name in ARCHITECTURES:
        depth = 8 if name in ("plain_cnn", "resnet") else None
        assert name in ZooSpec(architecture=name, depth=depth).describe()


# ---- the skips' scale beta (residual_scale) ------------------------------------------
SMALL = {"resnet": dict(depth=14, width=4, batch_size=2),
         "transformer_pre_ln": dict(blocks=2, d_model=16, heads=2, seq_len=4,
                                    batch_size=2),
         "transformer_post_ln": dict(blocks=2, d_model=16, heads=2, seq_len=4,
                                     batch_size=2)}


def test_skip_count_is_the_number_of_scaled_branches():
    assert skip_count(ZooSpec(architecture="resnet", depth=20)) == 9  # 3 stages x 3
    assert skip_count(ZooSpec(architecture="transformer_pre_ln", blocks=6)) == 12
    mlp = ZooSpec(architecture="mlp", depth=10)
    assert skip_count(mlp) == 0 and skip_count(mlp, mlp.model_spec(residual=True)) == 9
    assert {name for name in ARCHITECTURES if skip_count(ZooSpec(
        architecture=name, depth=8 if name in ("plain_cnn", "resnet") else None),
        ZooSpec(architecture="mlp").model_spec(residual=True))} == set(SKIPPED)


@pytest.mark.parametrize("architecture", list(SMALL))
def test_beta_1_builds_todays_model_and_beta_changes_no_weight(architecture):
    """At beta = 1 no layer multiplies (the numbers are the plain skip's bit for bit);
    another beta adds one weightless Rescaling per skip and draws the same weights."""
    import random

    import pandas as pd

    from core import zoo_models
    from core.flow import flow
    spec = ZooSpec(architecture=architecture, **SMALL[architecture])
    plain = build(spec)
    assert not [layer for layer in plain.layers if layer.__class__.__name__ == "Rescaling"]
    random.seed(spec.seed)  # as core.zoo.build seeds the unseeded initializers
    if architecture == "resnet":  # the builder as it was called before beta existed
        before = zoo_models.cifar_cnn(spec.layers, spec.units, True, False, 32)
    else:
        before = zoo_models.transformer(spec.blocks, spec.d_model, spec.heads,
                                        spec.seq_len, pre_ln=architecture.endswith("pre_ln"))
    assert [type(layer) for layer in before.layers] == [type(layer) for layer in plain.layers]
    pd.testing.assert_frame_equal(flow(before, batch_size=2, seed=spec.seed),
                                  flow_of(spec.replace(residual_scale=1.0)),
                                  check_exact=True)
    scaled = build(spec.replace(residual_scale=0.5))
    rescaling = [layer for layer in scaled.layers if layer.__class__.__name__ == "Rescaling"]
    assert len(rescaling) == skip_count(spec) and {r.scale for r in rescaling} == {0.5}
    weighted = [layer.name for layer in plain.layers if layer.weights]
    assert sorted(weighted) == sorted(layer.name for layer in scaled.layers if layer.weights)
    for name in weighted:
        for a, b in zip(plain.get_layer(name).weights, scaled.get_layer(name).weights,
                        strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def _outputs(model, tensors, x):
    from core.tf_setup import keras
    return [np.asarray(out) for out in keras.Model(model.inputs, tensors)(x, training=True)]


def test_at_beta_0_every_pre_ln_sublayer_is_the_identity():
    """The encoder's output is the readout of the final LayerNorm of the embeddings."""
    spec = ZooSpec(architecture="transformer_pre_ln", residual_scale=0.0,
                   **SMALL["transformer_pre_ln"])
    model = build(spec)
    x = np.random.default_rng(0).normal(size=(2, 4, 16)).astype("float32")
    direct = model.get_layer("readout")(model.get_layer("final_norm")(x))
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(direct), rtol=1e-6,
                               atol=1e-7)
    table = flow_of(spec)
    inside = table[table["name"].str.startswith("block_")]
    assert (inside["signal_grad_norm"] == 0).all() and (inside["weight_grad_norm"] == 0).all()
    assert (table["signal_grad_norm"].iloc[-2:] > 0).all()  # final norm, readout


def test_at_beta_0_post_ln_blocks_only_normalize():
    """LayerNorm(x + 0 x sublayer(x)) = LayerNorm(x): every block's stream is the first
    LayerNorm of the input again (LayerNorm's epsilon shrinks it by ~0.05% each time)."""
    spec = ZooSpec(architecture="transformer_post_ln", residual_scale=0.0,
                   **SMALL["transformer_post_ln"])
    model = build(spec)
    x = np.random.default_rng(1).normal(size=(2, 4, 16)).astype("float32")
    names = ["block_1_norm_1", "block_1_norm_2", "block_2_norm_1", "block_2_norm_2"]
    streams = _outputs(model, [model.get_layer(n).output for n in names], x)
    for stream in streams[1:]:
        np.testing.assert_allclose(stream, streams[0], rtol=5e-3, atol=5e-3)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_at_beta_0_every_resnet_block_with_an_identity_shortcut_is_the_identity(
        batch_norm):
    spec = ZooSpec(architecture="resnet", depth=14, width=4, batch_size=2,
                   batch_norm=batch_norm, residual_scale=0.0)
    from core.tf_setup import keras
    model = build(spec)
    entries = [model.get_layer(f"stage_{s}_block_{b}_conv_1").input
               for s in (1, 2, 3) for b in (1, 2)]
    entries += [layer.input for layer in model.layers
                if isinstance(layer, keras.layers.GlobalAveragePooling2D)]
    x = np.random.default_rng(2).normal(size=(2, 32, 32, 3)).astype("float32")
    streams = _outputs(model, entries, x)  # block k's input; the last block's output
    for k in (0, 1, 3, 5):  # all but the first blocks of stages 2 and 3: output = input
        np.testing.assert_array_equal(streams[k + 1], streams[k])
    for k in (2, 4):  # those enter a stage with a strided 1x1 projection
        assert streams[k + 1].shape != streams[k].shape


def test_beta_between_0_and_1_shrinks_the_growth_of_a_resnet_without_batch_norm():
    """ResNet-20, no batch norm: He-initialized ReLU branches make the signal grow with
    depth at beta = 1; a smaller beta grows it less, forward and backward."""
    backward, forward = [], []
    for beta in (1.0, 0.5, 0.25):
        table = flow_of(ZooSpec(architecture="resnet", depth=20, width=8, batch_size=4,
                                residual_scale=beta))
        signal = table["signal_grad_norm"].to_numpy()
        backward.append(signal[0] / signal[-1])  # from the readout back to the stem
        conv_2 = table[table["name"].str.endswith("conv_2")]["activation_norm"].to_numpy()
        forward.append(conv_2[-1] / conv_2[0])  # last block's branch / first block's
    assert backward[0] > 2 and forward[0] > 2  # beta = 1: the signal grows
    assert backward == sorted(backward, reverse=True)
    assert forward == sorted(forward, reverse=True)


def test_mlp_with_skips_at_beta_0_keeps_its_signal_across_the_skipped_layers():
    spec = ZooSpec(architecture="mlp", depth=6, width=16, batch_size=8,
                   residual_scale=0.0)
    mlp = spec.model_spec(residual=True, activation="relu", init="he_normal")
    assert mlp.residual_scale == 0.0
    table = flow_of(spec, mlp)
    hidden = table[table["name"].str.startswith("hidden_")]
    for column in ("activation_norm", "signal_grad_norm"):
        np.testing.assert_array_equal(hidden[column], hidden[column].iloc[0])
    assert (hidden["weight_grad_norm"].iloc[1:] == 0).all()
    assert hidden["weight_grad_norm"].iloc[0] > 0  # layer 1 has no skip


def test_describe_names_beta_only_where_there_are_skips():
    assert ZooSpec(architecture="resnet", depth=20, residual_scale=0.5).describe() == \
        "resnet-20, β = 0.5"
    assert ZooSpec(architecture="lstm", residual_scale=0.5).describe() == "lstm, 4 x 64"
    mlp = ZooSpec(architecture="mlp", residual_scale=0.0)
    assert mlp.describe() == "mlp, 20 x 128"
    assert mlp.describe(mlp.model_spec(residual=True)) == "mlp, 20 x 128 + skips, β = 0"
