"""core/keras_model.py: Stack, the one builder of the MLP's Keras layers, and the plain
keras.Model over it (the naive baseline; tests/test_per_layer.py compares its numbers
with the traced pass), and the script keras_code prints, run against the profile and
core.flow."""
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


# ---- keras_code: the script "Show the Keras code" and `python -m core code` print ------
# Run in a subprocess (the script sets Keras' floatx and registers its Hidden layer), all
# specs in one process so that TensorFlow loads once.
CODE_SPECS = {
    "relu_he": dict(activation="relu", init="he_normal"),
    "tanh_glorot": dict(activation="tanh", init="glorot_normal", bias_stddev=0.1,
                        input_dim=12),
    "batch_norm": dict(activation="relu", init="he_normal", batch_norm=True),
    "residual": dict(activation="tanh", init="variance_scaling", scale=4.0, residual=True),
    "orthogonal": dict(activation="leaky_relu", negative_slope=0.2, init="orthogonal",
                       gain=1.2),
    "float64": dict(activation="selu", init="lecun_normal", dtype="float64",
                    input_std=2.0),
    "no_bias": dict(activation="swish", init="he_uniform", no_bias=True),
    "identity_depth_1": dict(activation="linear", init="identity", gain=1.5, depth=1),
    "identity_theory": dict(activation="linear", init="identity", gain=1.5, no_bias=True,
                            depth=3),
    "saturated": dict(activation="sigmoid", init="random_normal", stddev=2.0, seed=3),
    "residual_scale": dict(activation="relu", init="he_normal", residual=True,
                           residual_scale=0.3),
    "residual_scale_0": dict(activation="tanh", residual=True, residual_scale=0.0),
}
from core.spec import INITS  # noqa: E402

CODE_SPECS.update({f"init_{init}": dict(init=init, activation="elu", depth=3, width=8,
                                        input_dim=5, batch_size=8) for init in INITS})
RUNNER = """
import contextlib, io, json, runpy, sys
outputs = {}
for name, path in json.loads(sys.argv[1]).items():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(path, run_name="__main__")
    outputs[name] = out.getvalue()
print(json.dumps(outputs))
"""


def code_spec(name: str) -> ModelSpec:
    return ModelSpec(**{**dict(depth=6, width=16, batch_size=32, seed=1),
                        **CODE_SPECS[name]})


@pytest.fixture(scope="module")
def printed_csv(tmp_path_factory):
    """{spec name: the CSV its printed script prints}, every script run in one
    subprocess."""
    import json
    import os
    import subprocess
    import sys
    from core.keras_model import keras_code
    folder = tmp_path_factory.mktemp("scripts")
    paths = {}
    for name in CODE_SPECS:
        paths[name] = str(folder / f"{name}.py")
        with open(paths[name], "w") as file:
            file.write(keras_code(code_spec(name)))
    done = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(paths)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def read_csv(text: str):
    import io
    import pandas as pd
    return pd.read_csv(io.StringIO(text))


def assert_same_columns(table, reference, columns, where):
    for column in columns:
        expected = reference[column].to_numpy(dtype=np.float64)
        # 1e-5 relative; the atol only for a mean that sums to about 0 (float32 sums of
        # O(std) entries in another order) and for exact zeros
        atol = 1e-6 * reference["activation_std"].abs().max() \
            if column == "activation_mean" else 1e-12
        np.testing.assert_allclose(table[column].to_numpy(dtype=np.float64), expected,
                                   rtol=1e-5, atol=atol, err_msg=f"{where}: {column}")


@pytest.mark.parametrize("name", list(CODE_SPECS))
def test_the_printed_script_prints_the_profile_csv(printed_csv, name):
    """The script "Show the Keras code" prints, run, prints the CSV of `python -m core
    profile --format csv` (same header, every column within 1e-5)."""
    import io
    from core.cli import emit
    from core.per_layer import COLUMNS, compute_profile
    spec = code_spec(name)
    expected = io.StringIO()
    emit(compute_profile(spec), "csv", expected)
    printed = printed_csv[name]
    assert printed.splitlines()[0] == expected.getvalue().splitlines()[0] == \
        ",".join(COLUMNS)
    table, reference = read_csv(printed), read_csv(expected.getvalue())
    assert len(table) == spec.depth
    assert_same_columns(table, reference, COLUMNS, name)


def test_the_scripts_cover_what_they_claim(printed_csv):
    """The specs above really exercise dead units, saturation and the identity theory."""
    assert read_csv(printed_csv["relu_he"])["dead_fraction"].max() > 0
    assert read_csv(printed_csv["saturated"])["saturated_fraction"].min() > 0.05
    assert read_csv(printed_csv["residual"])["saturated_fraction"].max() > 0.05
    identity = read_csv(printed_csv["identity_depth_1"])
    assert identity["weight_norm"][0] == pytest.approx(1.5 * 4.0, rel=1e-6)  # 1.5 I_16
    signal = read_csv(printed_csv["identity_theory"])["signal_grad_norm"]
    np.testing.assert_allclose([signal[0] / signal[2], signal[1] / signal[2]],
                               [1.5 ** 2, 1.5], rtol=1e-5)  # theory: a^(L-l)


@pytest.mark.parametrize("name", [name for name in CODE_SPECS
                                  if CODE_SPECS[name].get("dtype") != "float64"])
def test_flow_on_the_zoo_mlp_prints_the_scripts_numbers(printed_csv, name):
    """The third truth: core.flow on the real Keras mlp (`python -m core flow
    --architecture mlp`) gives the script's numbers on every column flow has. (flow has
    no pre-activation or saturation column. Its dead fraction counts outputs h that are
    0 for every example, the profile's activations whose output and slope are: the two
    agree for ReLU without skips, where they are compared.)"""
    from core.zoo import ZooSpec, flow_of
    spec = code_spec(name)
    zoo = ZooSpec(architecture="mlp", depth=spec.depth, width=spec.width,
                  batch_size=spec.batch_size, batch_norm=spec.batch_norm, seed=spec.seed)
    table = flow_of(zoo, spec)[:spec.depth].reset_index(drop=True)
    assert list(table["name"]) == [f"hidden_{layer}" for layer in range(1, spec.depth + 1)]
    columns = ["signal_grad_norm", "weight_grad_norm", "weight_norm", "activation_mean",
               "activation_std", "activation_norm"] + (
                   ["dead_fraction"] if spec.activation == "relu" and not spec.residual
                   else [])
    assert_same_columns(table, read_csv(printed_csv[name]), columns, name)


def test_python_m_core_code_prints_the_pages_script(capsys):
    from core.cli import main
    from core.keras_model import keras_code
    assert main(["code", "--depth", "7", "--activation", "relu", "--batch-norm",
                 "--init", "he_normal"]) == 0
    assert capsys.readouterr().out == keras_code(
        ModelSpec(depth=7, activation="relu", batch_norm=True, init="he_normal"))
    assert main(["code", "--depth", "0"]) == 2
    assert "--depth must be" in capsys.readouterr().err


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
    printed = read_csv(done.stdout)["signal_grad_norm"].to_numpy()
    page = compute_profile(spec)["signal_grad_norm"].to_numpy()
    assert len(printed) == 20 and (printed > 0).all()
    # another draw of x (the code's own rng), the same a^(L-l) law: within a few percent
    np.testing.assert_allclose(printed / printed[-1], page / page[-1], rtol=3e-2)


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


def test_the_shown_code_is_read_once_and_safely_from_many_threads(monkeypatch):
    """Thirty sessions render "Show the Keras code" at once: inspect.getsource runs
    ast.parse, which CPython 3.11 cannot run in two threads at once (a session died with
    "SystemError: AST constructor recursion depth mismatch" under the class benchmark).
    The source is read once per object, under a lock."""
    import inspect
    import threading
    from core import keras_model
    from core.keras_model import keras_code
    calls = []
    real = inspect.getsource
    monkeypatch.setattr(keras_model.inspect, "getsource",
                        lambda obj: calls.append(obj) or real(obj))
    keras_model._source.cache_clear()
    spec = ModelSpec(depth=3, width=8)
    results, errors = [], []

    def render():
        try:
            results.append(keras_code(spec))
        except Exception as error:  # noqa: BLE001 - collected for the assert
            errors.append(error)
    threads = [threading.Thread(target=render) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(results)) == 1
    assert len(calls) == 2  # zoo_models.Hidden and zoo_models.mlp, once each
