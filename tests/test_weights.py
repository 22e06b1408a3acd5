"""Initial weights: Keras' own initializers, drawn per layer or as a stack."""
import numpy as np
import pytest

from core.activations import PEAK_SLOPE, activation_fn
from core.spec import ACTIVATIONS, ModelSpec
from core.tf_setup import keras, tf
from core.spec import VARIANCE_SCALING
from core.weights import make_weights


def test_variance_scaling_table_matches_keras_classes():
    classes = {"glorot_normal": keras.initializers.GlorotNormal,
               "glorot_uniform": keras.initializers.GlorotUniform,
               "he_normal": keras.initializers.HeNormal,
               "he_uniform": keras.initializers.HeUniform,
               "lecun_normal": keras.initializers.LecunNormal,
               "lecun_uniform": keras.initializers.LecunUniform}
    for name, cls in classes.items():
        instance = cls()
        assert VARIANCE_SCALING[name] == (instance.scale, instance.mode,
                                          instance.distribution)


@pytest.mark.parametrize("init, expected_std", [
    ("glorot_normal", np.sqrt(2 / (96 + 96))), ("he_normal", np.sqrt(2 / 96)),
    ("lecun_uniform", np.sqrt(1 / 96)), ("he_avg_normal", np.sqrt(2) * np.sqrt(2 / 192)),
    ("random_normal", 0.05), ("random_uniform", 0.05 / np.sqrt(3)),
])
def test_stacked_kernels_have_the_per_layer_spread(init, expected_std):
    first, stack, _, _ = make_weights(ModelSpec(depth=30, width=96, init=init))
    assert stack.shape == (29, 96, 96)
    assert stack.std() == pytest.approx(expected_std, rel=0.02)
    assert first.std() == pytest.approx(expected_std, rel=0.06)
    assert not np.allclose(stack[0], stack[1])


def test_orthogonal_and_identity_stacks():
    _, stack, _, _ = make_weights(ModelSpec(depth=4, width=32, init="orthogonal", gain=1.5,
                                            dtype="float64"))
    for kernel in stack:
        np.testing.assert_allclose(kernel @ kernel.T, 2.25 * np.eye(32), atol=1e-12)
    first, stack, _, _ = make_weights(ModelSpec(depth=3, width=8, init="identity", gain=0.5))
    np.testing.assert_array_equal(stack[1], 0.5 * np.eye(8, dtype=np.float32))
    np.testing.assert_array_equal(first, 0.5 * np.eye(8, dtype=np.float32))


def test_biases_zero_or_drawn():
    _, _, biases, _ = make_weights(ModelSpec(depth=3, width=8))
    assert not biases.any()
    _, _, biases, _ = make_weights(ModelSpec(depth=30, width=100, bias_stddev=0.5))
    assert biases.std() == pytest.approx(0.5, rel=0.05)


def test_leaky_relu_equals_keras_and_peak_slopes_hold():
    z = tf.constant(np.linspace(-8, 8, 4001), tf.float32)
    ours = activation_fn("leaky_relu")(z, tf.constant(0.1))
    np.testing.assert_allclose(ours, keras.activations.leaky_relu(z, negative_slope=0.1))
    for name in ACTIVATIONS:
        with tf.GradientTape() as tape:
            tape.watch(z)
            out = activation_fn(name)(z, tf.constant(0.01))
        slope = np.abs(tape.gradient(out, z).numpy())
        assert slope.max() == pytest.approx(PEAK_SLOPE[name], rel=5e-3), name  # selu: a supremum at 0-


def test_every_draw_of_a_spec_has_its_own_seed():
    """The first kernel, the stack, the biases and the readout are separate draws: one
    seed reused for all would make them the same numbers (caught: index dropped)."""
    from core.weights import layer_seed
    seeds = {layer_seed(seed, index) for seed in range(3) for index in range(4)}
    assert len(seeds) == 12
    spec = ModelSpec(depth=3, width=16, input_dim=16, init="random_normal", stddev=1.0,
                     bias_stddev=1.0)
    first, stack, biases, _ = make_weights(spec)
    assert abs(np.corrcoef(first.ravel(), stack[0].ravel())[0, 1]) < 0.3
    assert abs(np.corrcoef(first[0], biases[0])[0, 1]) < 0.9
    assert not np.allclose(first[0], biases[0])


def test_the_seed_formula_needs_no_tensorflow():
    """core.through_time and core.training derive their seeds from layer_seed too."""
    import subprocess
    import sys
    from conftest import ROOT
    code = ("import sys; from core.weights import layer_seed; "
            "print(layer_seed(3, 2), 'tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.stdout.split() == [str((3 * 1_000_003 + 7919 * 2 + 1) % (2 ** 31 - 1)),
                                   "False"], done.stderr



def test_no_bias_wins_over_a_bias_spread():
    _, _, biases, _ = make_weights(ModelSpec(depth=4, width=8, bias_stddev=0.5,
                                             no_bias=True))
    assert not biases.any()
