"""core/keras_model.py: Stack, the one builder of the MLP's Keras layers, and the plain
keras.Model over it (the naive baseline; tests/test_per_layer.py compares its numbers
with the traced pass, tests/test_charts_export.py runs its printed code)."""
import numpy as np
import pytest

from core.spec import ModelSpec


@pytest.mark.parametrize("residual, batch_norm", [(False, False), (True, True)])
def test_every_layer_is_named_for_its_place_and_nothing_is_auto_named(residual, batch_norm):
    from core.keras_model import build_keras_model
    spec = ModelSpec(depth=3, width=8, residual=residual, batch_norm=batch_norm)
    names = [layer.name for layer in build_keras_model(spec).layers]
    expected = ["inputs"]
    for layer in range(1, 4):
        expected += [f"dense_{layer}"] + ([f"batch_norm_{layer}"] if batch_norm else []) + \
            [f"activation_{layer}"] + ([f"skip_{layer}"] if residual and layer > 1 else [])
    assert names == expected + ["readout"]


def test_given_weights_are_the_profiles_and_the_outputs_are_readout_then_every_layer():
    from core.keras_model import build_keras_model
    from core.weights import make_data, make_weights
    spec = ModelSpec(depth=4, width=8, activation="tanh", residual=True)
    first, stack, biases, readout = weights = make_weights(spec)
    model = build_keras_model(spec, weights)
    np.testing.assert_array_equal(model.get_layer("dense_1").kernel.numpy(), first)
    np.testing.assert_array_equal(model.get_layer("dense_4").kernel.numpy(), stack[-1])
    np.testing.assert_array_equal(model.get_layer("dense_2").bias.numpy(), biases[1])
    np.testing.assert_array_equal(model.get_layer("readout").kernel.numpy(), readout)
    x, _ = make_data(spec)
    outputs = model(x)
    assert len(outputs) == 1 + spec.depth
    h1, h2 = np.asarray(outputs[1]), np.asarray(outputs[2])
    np.testing.assert_allclose(h1, np.tanh(x @ first + biases[0]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h2, h1 + np.tanh(h1 @ stack[0] + biases[1]),  # the skip
                               rtol=1e-5, atol=1e-6)


def test_a_stack_without_draws_starts_at_zero_and_with_draws_uses_the_specs_seeds():
    from core.keras_model import Stack
    from core.tf_setup import keras
    spec = ModelSpec(depth=2, width=8, init="he_normal")
    drawn, blank, again = Stack(spec), Stack(spec, draw=False), Stack(spec)
    x = keras.ops.ones((1, spec.n_in))
    for stack in (drawn, blank, again):
        stack(x, training=False)
    assert not np.any(blank.dense[0].kernel.numpy())
    np.testing.assert_array_equal(drawn.dense[1].kernel.numpy(), again.dense[1].kernel.numpy())
    assert drawn.dense[1].kernel.numpy().std() == pytest.approx(np.sqrt(2 / 8), rel=0.5)


def test_the_skip_is_a_plain_add_at_scale_1_and_a_scaled_skip_otherwise():
    from core.keras_model import ScaledSkip, Stack
    from core.tf_setup import keras
    plain = Stack(ModelSpec(depth=3, width=8, residual=True))
    assert plain.skips[0] is None
    assert all(type(skip) is keras.layers.Add for skip in plain.skips[1:])  # no multiply
    scaled = Stack(ModelSpec(depth=3, width=8, residual=True, residual_scale=0.25))
    assert all(isinstance(skip, ScaledSkip) and not skip.learnable
               for skip in scaled.skips[1:])
    learned = Stack(ModelSpec(depth=3, width=8, residual=True, residual_scale=0.0),
                    learn_scale=True)
    x = keras.ops.ones((2, 8))
    for stack in (scaled, learned):
        stack(x, training=False)
    assert scaled.scales() == [0.25, 0.25] and learned.scales() == [0.0, 0.0]
    assert [w.name for w in learned.skips[1].trainable_weights] == ["scale"]
    assert scaled.skips[1].trainable_weights == []


def test_keras_model_at_scale_0_is_the_identity_after_layer_1_and_scales_the_branch():
    from core.keras_model import build_keras_model
    from core.weights import make_data, make_weights
    spec = ModelSpec(depth=4, width=8, batch_size=4, activation="tanh", residual=True,
                     residual_scale=0.0)
    x, _ = make_data(spec)
    _, *hidden = build_keras_model(spec, make_weights(spec))(x)
    for h in hidden[1:]:
        np.testing.assert_array_equal(np.asarray(h), np.asarray(hidden[0]))
    spec = spec.replace(residual_scale=0.3)
    first, stack, biases, _ = weights = make_weights(spec)
    _, h1, h2, *_ = build_keras_model(spec, weights)(x)
    h1 = np.asarray(h1)
    np.testing.assert_allclose(np.asarray(h2), h1 + 0.3 * np.tanh(h1 @ stack[0] + biases[1]),
                               rtol=1e-5, atol=1e-6)


def test_scaled_skip_is_registered_and_saves_and_loads(tmp_path):
    from core.keras_model import ScaledSkip
    from core.tf_setup import keras
    inputs = keras.Input((3,))
    branch = keras.layers.Dense(3, name="branch")(inputs)
    model = keras.Model(inputs, ScaledSkip(0.0, learnable=True, name="skip")([inputs, branch]))
    model.get_layer("skip").scale.assign(0.7)
    path = tmp_path / "skip.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # safe mode: a registered class, no code
    skip = loaded.get_layer("skip")
    assert isinstance(skip, ScaledSkip) and skip.learnable
    assert float(skip.scale) == pytest.approx(0.7)
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6)
