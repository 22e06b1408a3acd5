"""core.network: the trained Keras network and its optimizer."""
import numpy as np
import pytest

from core.network import MOMENTUM, Network, make_optimizer
from core.spec import ModelSpec
from core.training import TrainingSpec
from core.weights import make_weights

SPEC = ModelSpec(depth=3, width=8, input_dim=5, batch_size=4, activation="leaky_relu",
                 negative_slope=0.2, init="he_normal", residual=True, bias_stddev=0.1)


def test_the_network_starts_from_core_weights_and_its_model_is_its_forward_pass():
    network = Network(SPEC, classes=3)
    first, stack, biases, _ = make_weights(SPEC)
    kernels = [first] + list(stack)
    for layer, dense in enumerate(network.stack.dense):
        np.testing.assert_array_equal(np.asarray(dense.kernel), kernels[layer])
        np.testing.assert_array_equal(np.asarray(dense.bias), biases[layer])
    assert network.readout.kernel.shape == (SPEC.width, 3)
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    logits, zs, hs = network.forward(x, training=False)
    np.testing.assert_allclose(np.asarray(network.model(x)), np.asarray(logits), rtol=1e-6)
    assert len(zs) == len(hs) == SPEC.depth
    # residual: h_l = phi(z_l) + h_(l-1) from layer 2 on
    phi = lambda z: np.where(z > 0, z, 0.2 * z)  # noqa: E731
    np.testing.assert_allclose(np.asarray(hs[1]), phi(np.asarray(zs[1])) + np.asarray(hs[0]),
                               rtol=1e-6)


def test_batch_norm_layers_only_when_asked():
    assert all(norm is None for norm in Network(SPEC, classes=2).stack.norms)
    assert all(norm is not None for norm in
               Network(SPEC.replace(batch_norm=True), classes=2).stack.norms)


@pytest.mark.parametrize("changes, kind, momentum", [
    (dict(), "SGD", 0.0), (dict(optimizer="momentum"), "SGD", MOMENTUM),
    (dict(optimizer="adam"), "Adam", None)])
def test_the_optimizer_is_keras_own_with_its_clipping_argument(changes, kind, momentum):
    optimizer = make_optimizer(TrainingSpec(learning_rate=0.2, clipvalue=0.5, **changes))
    assert type(optimizer).__name__ == kind
    assert float(optimizer.learning_rate) == pytest.approx(0.2)
    assert optimizer.clipvalue == 0.5 and optimizer.clipnorm is None
    if momentum is not None:
        assert optimizer.momentum == momentum


def test_l2_is_a_keras_regularizer_on_every_kernel_and_the_readout():
    network = Network(SPEC, classes=3, l2=0.01)
    kernels = [np.asarray(k, np.float64) for k in network.kernels + [network.readout.kernel]]
    expected = 0.01 * sum(float(np.sum(k ** 2)) for k in kernels)
    assert len(network.model.losses) == SPEC.depth + 1
    assert float(sum(np.asarray(loss) for loss in network.model.losses)) == pytest.approx(
        expected, rel=1e-6)
    assert Network(SPEC, classes=3).model.losses == []


def test_a_mixed_precision_network_computes_hidden_layers_in_float16_with_float32_weights():
    from core.tf_setup import keras
    network = Network(ModelSpec(depth=3, width=8, input_dim=4), 3, policy="mixed_float16")
    for dense in network.stack.dense:
        assert dense.compute_dtype == "float16" and dense.kernel.dtype == "float32"
    assert network.readout.compute_dtype == "float32"  # logits and loss in float32
    assert keras.config.dtype_policy().name == "float32"  # the global policy untouched
    logits, zs, hs = network.forward(np.ones((2, 4), "float32"), training=True)
    assert logits.dtype == "float32" and hs[0].dtype == "float16"
    scaled = make_optimizer(TrainingSpec(mixed_precision=True, loss_scaling=True))
    assert isinstance(scaled, keras.optimizers.LossScaleOptimizer)
    assert not isinstance(make_optimizer(TrainingSpec(mixed_precision=True)),
                          keras.optimizers.LossScaleOptimizer)


def test_residual_scale_0_is_a_learned_scalar_from_0_that_trains_and_saves(tmp_path):
    """SkipInit/ReZero: at step 0 every skipped layer is the identity; training moves
    each skip's scale off 0; the trained model saves and loads with its scales."""
    from core.keras_model import ScaledSkip
    from core.tf_setup import keras
    from core.training import _build_step
    spec = SPEC.replace(residual_scale=0.0)
    network = Network(spec, classes=3)
    assert network.stack.scales() == [0.0, 0.0]
    names = [v.name for v in network.model.trainable_variables]
    assert names.count("scale") == spec.depth - 1
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    _, _, hs = network.forward(x, training=True)
    for h in hs[1:]:
        np.testing.assert_array_equal(np.asarray(h), np.asarray(hs[0]))
    step, _ = _build_step(network, make_optimizer(TrainingSpec(learning_rate=0.5)),
                          TrainingSpec())
    for _ in range(5):
        step(x, np.array([0, 1, 2, 0], dtype="int32"))
    scales = network.stack.scales()
    assert all(abs(scale) > 1e-4 for scale in scales), scales
    path = tmp_path / "rezero.keras"
    network.model.save(path)
    loaded = keras.models.load_model(path)
    skips = [loaded.get_layer(f"skip_{layer}") for layer in (2, 3)]
    assert all(isinstance(skip, ScaledSkip) for skip in skips)
    assert [float(skip.scale) for skip in skips] == pytest.approx(scales)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(network.model(x)),
                               rtol=1e-5)


def test_a_fixed_residual_scale_is_not_trained_and_scale_1_adds_no_weight():
    fixed = Network(SPEC.replace(residual_scale=0.5), classes=3)
    assert "scale" not in [v.name for v in fixed.model.trainable_variables]
    assert fixed.stack.scales() == [0.5, 0.5]
    plain = Network(SPEC, classes=3)
    assert len(plain.model.trainable_variables) == 2 * SPEC.depth + 2
    assert plain.stack.scales() == [1.0, 1.0]
