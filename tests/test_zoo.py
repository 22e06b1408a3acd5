"""core.zoo: the spec's checks, reproducible builds, names that say where a layer sits."""
import numpy as np
import pytest

from core.per_layer import profile
from core.zoo import ARCHITECTURES, ZooSpec, build, flow_of


@pytest.mark.parametrize("changes, words", [
    (dict(architecture="resnet", depth=21), r"6n\+2"),
    (dict(architecture="plain_cnn", depth=2), r"6n\+2"),
    (dict(architecture="transformer_pre_ln", d_model=30, heads=4), "must divide"),
    (dict(architecture="lstm", depth=40), "at most 16"),
    (dict(architecture="alexnet"), "architecture must be one of"),
    (dict(architecture="mlp", depth=200, width=512, batch_size=256), "budget"),
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
