"""core/reseed.py: a kept model given another seed's weights equals a fresh build, weight
by weight; models it cannot reseed are refused, and core.zoo then builds again."""
import numpy as np
import pytest

from core.reseed import Reseeder, seed_sequence
from core.zoo import ZooSpec, build


def test_the_seed_sequence_is_keras_default_seeds_after_random_seed():
    import random

    from keras.src.random.seed_generator import make_default_seed
    state = random.getstate()
    try:
        random.seed(42)
        drawn = [make_default_seed() for _ in range(5)]
    finally:
        random.setstate(state)
    assert seed_sequence(42, 5) == drawn


@pytest.mark.parametrize("spec", [
    ZooSpec(architecture="resnet", depth=8, width=4, batch_norm=True),
    ZooSpec(architecture="plain_cnn", depth=8, width=4),
    ZooSpec(architecture="lstm", depth=2, width=8, seq_len=4),
    ZooSpec(architecture="mobilenet_v2"),  # depthwise kernels
    ZooSpec(architecture="efficientnet_b0"),  # normalization statistics, dropout seeds
    ZooSpec(architecture="resnet50"),
], ids=lambda spec: spec.architecture)
def test_a_reseeded_model_equals_a_fresh_build_of_that_seed(spec):
    model = build(spec.replace(seed=3))
    before = [w.numpy().copy() for w in model.weights]
    reseeder = Reseeder(model, 3)
    assert reseeder.ok and reseeder.slots
    assert reseeder.reseed(11)
    fresh = build(spec.replace(seed=11))
    changed = 0
    for old, kept, new in zip(before, model.weights, fresh.weights):
        np.testing.assert_array_equal(kept.numpy(), new.numpy(), err_msg=kept.path)
        changed += not np.array_equal(old, new.numpy())
    assert changed == len(reseeder.slots)  # every random weight, and only those
    assert reseeder.reseed(3)  # and back
    for old, kept in zip(before, model.weights):
        np.testing.assert_array_equal(kept.numpy(), old)


def test_attention_is_not_reseedable_and_an_explicit_seed_stays():
    from core.tf_setup import keras
    transformer = build(ZooSpec(architecture="transformer_pre_ln", blocks=1, d_model=16,
                                heads=2))
    assert not Reseeder(transformer, 0).ok and not Reseeder(transformer, 0).reseed(1)
    dense = keras.layers.Dense(3, kernel_initializer=keras.initializers.GlorotUniform(7))
    model = keras.Sequential([keras.Input((2,)), dense])
    kernel = dense.kernel.numpy().copy()
    reseeder = Reseeder(model, 0)
    assert reseeder.ok and reseeder.slots == [] and reseeder.reseed(5)
    np.testing.assert_array_equal(dense.kernel.numpy(), kernel)


def test_zoo_keeps_the_model_and_a_new_seed_measures_what_a_fresh_build_does():
    from core import zoo
    from core.flow import flow
    zoo.forget_models()
    # plain_cnn: TensorFlow 2.21's oneDNN corrupts the heap in the kernel gradient of a
    # 1x1 stride-2 convolution (a ResNet shortcut) when batch sizes change in a process
    spec = ZooSpec(architecture="plain_cnn", depth=8, width=4, batch_norm=True,
                   batch_size=2)
    zoo._flow(spec, None)
    kept = zoo._kept[zoo._family(spec)].model
    table = zoo._flow(spec.replace(seed=9, batch_size=3), None)
    assert zoo._kept[zoo._family(spec)].model is kept  # reseeded, not built
    expected = flow(build(spec.replace(seed=9)), batch_size=3, seed=9)
    for column in ("signal_grad_norm", "weight_grad_norm", "weight_norm",
                   "activation_mean", "activation_std", "dead_fraction"):
        np.testing.assert_allclose(table[column], expected[column], rtol=1e-6,
                                   err_msg=column)
    transformer = ZooSpec(architecture="transformer_post_ln", blocks=1, d_model=16, heads=2)
    zoo._flow(transformer, None)
    assert zoo._family(transformer) not in zoo._kept  # not reseedable: not kept


def test_the_pool_keeps_at_most_its_weight_budget(monkeypatch):
    from core import zoo
    zoo.forget_models()
    monkeypatch.setattr(zoo, "KEPT_WEIGHTS", 3000)
    small = [ZooSpec(architecture="lstm", depth=1, width=w, seq_len=4, batch_size=1)
             for w in (8, 12, 16)]
    for spec in small:
        zoo._flow(spec, None)
    sizes = [kept.model.count_params() for kept in zoo._kept.values()]
    assert sum(sizes) <= 3000 and zoo._family(small[-1]) in zoo._kept
    assert zoo._family(small[0]) not in zoo._kept  # the least recently used went first
    zoo.forget_models()
