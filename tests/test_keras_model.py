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


def test_the_float16_code_shown_runs_and_its_norms_do_not_underflow_where_the_pages_do_not():
    """The code sets keras.config.set_floatx (global: run in its own process). Its norms
    scale the squares by the largest entry, as the page does: a plain tf.norm in float16
    prints 0 for layer 1 here (squares of 1e-5 underflow), where the page shows 1.1e-4."""
    import subprocess
    import sys
    from conftest import ROOT
    from core.experiments.problem import identity_spec
    from core.keras_model import keras_code
    from core.per_layer import compute_profile
    spec = identity_spec(20, 0.7, "float16")
    done = subprocess.run([sys.executable, "-c", keras_code(spec)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300,
                          env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-2000:]
    printed = np.array([float(line.split()[1]) for line in done.stdout.splitlines()])
    page = compute_profile(spec)["signal_grad_norm"].to_numpy()
    assert len(printed) == 20 and (printed > 0).all()
    # another draw of x (the code's own rng), the same a^(L-l) law: within a few percent
    np.testing.assert_allclose(printed / printed[-1], page / page[-1], rtol=3e-2)
