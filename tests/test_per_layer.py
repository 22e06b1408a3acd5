"""core.per_layer against closed forms, the plain Keras model, and the theory notes."""
import numpy as np
import pytest

from core import summary
from core.keras_model import naive_profile
from core.experiments.problem import identity_spec
from core.per_layer import compute_profile, profile
from core.spec import ModelSpec


@pytest.mark.parametrize("gain", [0.9, 1.1])
def test_identity_network_signal_is_exactly_a_to_the_L_minus_l(gain):
    depth = 50
    table = compute_profile(identity_spec(depth, gain, "float32"))
    signal = table["signal_grad_norm"].to_numpy(np.float64)
    layers = table["layer"].to_numpy()
    expected = gain ** (depth - layers)
    np.testing.assert_allclose(signal / signal[-1], expected, rtol=1e-4)
    weight = table["weight_grad_norm"].to_numpy(np.float64)
    np.testing.assert_allclose(weight, weight[0], rtol=1e-4)
    forward = table["activation_norm"].to_numpy(np.float64)
    np.testing.assert_allclose(forward, table.attrs["input_norm"] * gain ** layers,
                               rtol=1e-4)


def test_identity_float32_overflow_and_underflow_are_kept_and_located():
    exploding = compute_profile(identity_spec(150, 1.5, "float32"))
    found = summary.summarize(exploding)
    assert np.isinf(exploding["signal_grad_norm"]).any()
    assert np.isnan(exploding["signal_grad_norm"]).any()  # inf x 0 in the matmul
    assert found["verdict"] == "exploding" and found["grad_inf_from"] is not None
    assert found["grad_nan_from"] < found["grad_inf_from"]
    assert summary.describe_problems(found)
    vanishing = compute_profile(identity_spec(150, 0.5, "float32"))
    found = summary.summarize(vanishing)
    assert (vanishing["activation_norm"] == 0).any()
    assert found["forward_zero_from"] is not None and found["verdict"] == "vanishing"
    # float64 represents 1.5^300 and 0.5^150: no overflow, ratio exact.
    wide = compute_profile(identity_spec(150, 1.5, "float64"))
    assert np.isfinite(wide["signal_grad_norm"]).all()
    ratio = summary.summarize(wide)["ratio"]
    assert ratio == pytest.approx(1.5 ** 149, rel=1e-9)


def test_relu_he_keeps_the_signal_and_glorot_halves_it_per_layer():
    base = ModelSpec(depth=20, width=256, activation="relu", batch_size=256)
    he = summary.summarize(compute_profile(base.replace(init="he_normal")))["ratio"]
    glorot = summary.summarize(compute_profile(base.replace(init="glorot_normal")))["ratio"]
    assert 0.3 <= he <= 3
    assert 2e-4 <= glorot <= 5e-3  # theory (1/sqrt 2)^19 = 1.4e-3


def test_weight_gradient_flat_while_signal_vanishes():
    """Glorot & Bengio eq. 14: relu + glorot_uniform, 20 x 256, three seeds."""
    for seed in range(3):
        table = compute_profile(ModelSpec(depth=20, width=256, activation="relu",
                                          init="glorot_uniform", seed=seed))
        weight_ratio = table["weight_grad_norm"].iloc[0] / table["weight_grad_norm"].iloc[-1]
        signal_ratio = table["signal_grad_norm"].iloc[0] / table["signal_grad_norm"].iloc[-1]
        assert 0.5 <= weight_ratio <= 2.0
        assert signal_ratio < 5e-3


@pytest.mark.parametrize("changes", [
    dict(activation="tanh"),
    dict(activation="leaky_relu", negative_slope=0.2, batch_norm=True, residual=True,
         bias_stddev=0.1, input_dim=20),
    dict(activation="selu", init="orthogonal", gain=1.2, no_bias=True, dtype="float64"),
    dict(activation="sigmoid", init="random_uniform", limit=0.3, input_std=2.0),
    dict(activation="gelu", init="he_avg_normal"),
    dict(activation="swish", init="variance_scaling", scale=3.0, residual=True),
    dict(activation="softsign", init="lecun_uniform", batch_size=1),
    dict(activation="elu", init="identity", gain=0.8, depth=1),
    dict(activation="tanh", residual=True, residual_scale=0.3, dtype="float64"),
    dict(activation="relu", init="he_normal", residual=True, residual_scale=2.5,
         batch_norm=True),
    dict(activation="linear", init="lecun_normal", residual=True, residual_scale=0.0),
])
def test_fast_profile_equals_plain_keras_model_with_eager_tape(changes):
    spec = ModelSpec(depth=5, width=24, batch_size=12).replace(**changes)
    fast, reference = compute_profile(spec), naive_profile(spec)
    tol = 1e-10 if spec.dtype == "float64" else 2e-5
    for column in ("signal_grad_norm", "weight_grad_norm", "activation_std"):
        np.testing.assert_allclose(fast[column], reference[column], rtol=tol, atol=1e-30)


def test_dead_and_saturated_fractions():
    dead = compute_profile(ModelSpec(depth=10, width=64, activation="relu",
                                     init="random_normal", stddev=0.05, bias_stddev=1.0))
    assert dead["dead_fraction"].max() > 0.05
    leaky = compute_profile(ModelSpec(depth=10, width=64, activation="leaky_relu",
                                      bias_stddev=1.0))
    assert (leaky["dead_fraction"] == 0).all() and (leaky["saturated_fraction"] == 0).all()
    saturated = compute_profile(ModelSpec(depth=8, width=100, activation="sigmoid",
                                          init="random_normal", stddev=1.0))
    assert saturated["saturated_fraction"].min() > 0.4
    linear = compute_profile(identity_spec(150, 0.5))
    assert (linear["dead_fraction"] == 0).all()  # underflow is not death


def test_cache_returns_independent_copies():
    spec = ModelSpec(depth=3, width=8, batch_size=4)
    first = profile(spec)
    first.loc[0, "signal_grad_norm"] = -1.0
    assert profile(spec).loc[0, "signal_grad_norm"] > 0


def test_same_spec_same_numbers_and_seed_matters():
    spec = ModelSpec(depth=4, width=16, batch_size=8)
    a, b = compute_profile(spec), compute_profile(spec)
    assert a.equals(b)
    c = compute_profile(spec.replace(seed=1))
    assert not np.allclose(a["signal_grad_norm"], c["signal_grad_norm"])


def test_safe_norm_does_not_overflow_while_entries_are_finite():
    from core.per_layer import safe_norm
    from core.tf_setup import tf
    big = tf.constant([[1e20, -1e20], [0.0, 0.0]], tf.float32)
    assert float(safe_norm(big)) == pytest.approx(2 ** 0.5 * 1e20, rel=1e-6)
    assert np.isinf(float(tf.norm(big)))  # what the plain norm does
    np.testing.assert_allclose(safe_norm(big[None], [1, 2]), [2 ** 0.5 * 1e20], rtol=1e-6)
    assert float(safe_norm(tf.zeros([3]))) == 0.0
    assert np.isinf(float(safe_norm(tf.constant([np.inf, 1.0]))))


def test_the_problem_pages_theory_lines_are_the_measured_values_in_float64():
    """W = a I, no bias, linear: ||h_l|| = a^l ||x|| and ||g_l|| = a^(L-l) ||g_L||."""
    from core.experiments.problem import chart_data, identity_spec, theory_lines
    table = compute_profile(identity_spec(20, 1.3, "float64"))
    theory = theory_lines(table, 1.3, table.attrs["input_norm"])
    np.testing.assert_allclose(theory["forward"], table["activation_norm"], rtol=1e-9)
    np.testing.assert_allclose(theory["backward"], table["signal_grad_norm"], rtol=1e-9)
    assert theory["backward"].iloc[-1] == table["signal_grad_norm"].iloc[-1]
    data = chart_data(table, 1.3, table.attrs["input_norm"])
    assert set(data["backward"]["kind"]) == {"measured", "theory"}
    assert len(data["forward"]) == 2 * 20


def test_the_table_has_the_documented_columns_in_order():
    from core.per_layer import COLUMNS
    assert list(profile(ModelSpec(depth=3, width=8, batch_size=4)).columns) == COLUMNS


@pytest.mark.parametrize("activation", ["gelu", "tanh", "sigmoid", "swish", "elu", "relu"])
def test_saturated_and_dead_fractions_equal_their_definition_on_the_keras_model(activation):
    """Recompute both fractions from the plain Keras model's pre-activations, with the
    definitions of core.per_layer: saturated = slope below 5% of the peak on a tail
    (|z| >= 2; GELU's interior dip near z = -0.75 is not saturation), dead = a unit
    whose output and slope are 0 for every example."""
    from core import theory
    from core.activations import peak_slope, saturates
    from core.keras_model import build_keras_model
    from core.per_layer import SATURATION_MIN_Z, SATURATION_SLOPE
    from core.tf_setup import keras
    from core.weights import make_data, make_weights
    spec = ModelSpec(depth=3, width=64, batch_size=128, activation=activation,
                     init="lecun_normal", bias_stddev=0.3, dtype="float64")
    model = build_keras_model(spec, make_weights(spec))
    dense = [model.get_layer(f"dense_{layer}").output for layer in range(1, 4)]
    z_all = keras.Model(model.input, dense)(make_data(spec)[0])
    table = compute_profile(spec)
    for layer, z in enumerate(z_all):
        z = np.asarray(z)
        slope = theory.slope(activation, z)
        flat = (np.abs(slope) < SATURATION_SLOPE * peak_slope(activation)) & (
            np.abs(z) >= SATURATION_MIN_Z)
        expected = flat.mean() if saturates(activation) else 0.0
        assert table["saturated_fraction"].iloc[layer] == pytest.approx(expected, abs=1e-12)
        silent = (theory.phi(activation, z) == 0) & (slope == 0)
        assert table["dead_fraction"].iloc[layer] == pytest.approx(
            silent.all(axis=0).mean(), abs=1e-12)
    if activation == "gelu":  # the dip is visited: without the tail rule it would count
        dip = np.abs(theory.slope("gelu", np.asarray(z_all[0]))) < 0.05 * peak_slope("gelu")
        assert dip.mean() > table["saturated_fraction"].iloc[0] + 0.02

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_activation_through_the_single_graph_equals_its_own_graph_and_keras(dtype):
    """The one traced graph for every activation (the activation an index tensor) gives
    the numbers of the graph traced for that activation alone and of plain Keras; the
    dead and saturated fractions are exactly the same."""
    from core.per_layer import _step_for
    from core.spec import ACTIVATIONS
    tol = 1e-12 if dtype == "float64" else 1e-6
    variants = [dict(), dict(init="random_normal", stddev=1.0, bias_stddev=1.0),
                dict(batch_norm=True, residual=True, bias_stddev=0.5)]
    for activation in ACTIVATIONS:
        for changes in variants:
            spec = ModelSpec(depth=6, width=32, batch_size=16, activation=activation,
                             dtype=dtype, negative_slope=0.1, **changes)
            single = compute_profile(spec, single_graph=True)
            own = compute_profile(spec, single_graph=False)
            for column in ("saturated_fraction", "dead_fraction"):
                np.testing.assert_array_equal(single[column], own[column])
            for column in single.columns:
                np.testing.assert_allclose(single[column], own[column], rtol=tol,
                                           atol=1e-30, err_msg=f"{activation} {column}")
            reference = naive_profile(spec)
            # float64: keras.layers.LeakyReLU keeps its slope as a float32 (0.1 is then
            # 0.10000000149), hence 1e-8 rather than 1e-10; the own graph differs as much.
            for column in ("signal_grad_norm", "weight_grad_norm", "activation_std"):
                np.testing.assert_allclose(single[column], reference[column],
                                           rtol=1e-8 if dtype == "float64" else 2e-5,
                                           atol=1e-30)
    saturating = compute_profile(ModelSpec(depth=4, width=32, activation="tanh",
                                           init="random_normal", stddev=1.0))
    assert saturating["saturated_fraction"].min() > 0.3
    dying = compute_profile(ModelSpec(depth=10, width=64, activation="relu",
                                      init="random_normal", stddev=0.05, bias_stddev=1.0))
    assert dying["dead_fraction"].max() > 0.05
    # One graph per (batch_norm, residual, dtype), whatever the activation.
    assert _step_for(spec, single_graph=True) is _step_for(
        spec.replace(activation="relu"), single_graph=True)


# --- half precision: float16 and bfloat16 -----------------------------------------------
HALF_TOLERANCE = {"float16": 1e-2, "bfloat16": 5e-2}  # a few units in the last place


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("changes", [
    dict(activation="tanh"),
    dict(activation="relu", init="he_normal", residual=True, bias_stddev=0.1),
    dict(activation="leaky_relu", negative_slope=0.2, batch_norm=True),
    dict(activation="sigmoid", init="random_uniform", limit=0.3, input_std=2.0),
])
def test_half_precision_fast_profile_equals_plain_keras_in_that_format(dtype, changes):
    """The traced pass computes in float16 / bfloat16 exactly as Keras layers built with
    dtype=float16 / bfloat16 do, up to the format's own rounding (the norms are summed in
    the format here, in float64 there)."""
    spec = ModelSpec(depth=5, width=24, batch_size=12, dtype=dtype).replace(**changes)
    fast, reference = compute_profile(spec), naive_profile(spec)
    for column in ("signal_grad_norm", "weight_grad_norm", "activation_std"):
        np.testing.assert_allclose(fast[column], reference[column],
                                   rtol=HALF_TOLERANCE[dtype], atol=1e-30, err_msg=column)
    assert fast["signal_grad_norm"].dtype == np.float64  # format values as float64 columns


def _first(table, mask):
    rows = table.loc[np.asarray(mask), "layer"]
    return int(rows.iloc[0]) if len(rows) else None


def test_float16_overflows_exactly_where_one_point_five_to_the_l_times_x_passes_65504():
    table = compute_profile(identity_spec(60, 1.5, "float16"))
    norm_x = table.attrs["input_norm"]  # ‖x‖ of the float16 inputs
    layers = np.arange(1, 61)
    theory = int(layers[1.5 ** layers * norm_x > 65504][0])
    assert theory == 19
    assert _first(table, np.isinf(table["activation_norm"])) == theory
    finite = table["activation_norm"].iloc[:theory - 1].to_numpy()
    np.testing.assert_allclose(finite, norm_x * 1.5 ** layers[:theory - 1], rtol=5e-3)
    found = summary.summarize(table)
    assert found["forward_inf_from"] == theory
    assert "float16's largest value 65504" in summary.describe_problems(found,
                                                                        dtype="float16")[0]


def test_bfloat16_has_float32s_range_and_about_three_significant_digits():
    from core.weights import make_data
    spec = identity_spec(150, 2.0, "bfloat16")
    x = make_data(spec)[0].astype(np.float64)
    exact = make_data(spec.replace(dtype="float64"))[0]
    error = np.abs(x - exact) / np.abs(exact)
    assert error.max() <= 2.0 ** -8  # 8 significant bits, rounded to nearest: ~2.4 digits
    assert error.max() > 2.0 ** -10  # ... and not more
    table, wide = compute_profile(spec), compute_profile(spec.replace(dtype="float32"))
    layers = np.arange(1, 151)
    limit = summary.float_limits("bfloat16")["max"]
    theory = int(layers[2.0 ** layers * table.attrs["input_norm"] > limit][0])
    assert _first(table, np.isinf(table["activation_norm"])) == theory == \
        _first(wide, np.isinf(wide["activation_norm"]))  # float32's range: same layer
    assert theory > 100  # far beyond float16's 65504
    finite = table["activation_norm"].iloc[:theory - 1].to_numpy()
    relative = np.abs(finite / (table.attrs["input_norm"] * 2.0 ** layers[:theory - 1]) - 1)
    assert relative.max() < 2e-2 and relative.max() > 1e-4  # digits, not float32's 1e-7


@pytest.mark.parametrize("dtype, gain, depth", [("float16", 0.5, 40), ("bfloat16", 0.5, 150),
                                                 ("float32", 0.5, 150), ("float64", 0.01, 160)])
def test_forward_underflow_to_zero_is_where_each_format_flushes(dtype, gain, depth):
    """‖h_l‖ = 0 from the first layer where a^l·max|x| falls below the format's flush
    point: half the smallest subnormal for float16 (TensorFlow's float16 keeps
    subnormals), the smallest normal for the others (flushed to zero on the CPU)."""
    from core.weights import make_data
    spec = identity_spec(depth, gain, dtype)
    table = compute_profile(spec)
    peak = float(np.abs(make_data(spec)[0].astype(np.float64)).max())
    layers = np.arange(1, depth + 1)
    limits = summary.float_limits(dtype)
    theory = int(layers[peak * gain ** layers < limits["flush_below"]][0])
    assert _first(table, table["activation_norm"] == 0) == theory
    found = summary.summarize(table)
    assert found["forward_zero_from"] == theory and found["forward_zero_cause"] == "underflow"
    sentence = summary.describe_problems(found, dtype=dtype)[0]
    assert "underflows to exactly 0" in sentence and dtype in sentence
    if dtype == "float16":  # below the smallest normal 6.1e-5, still not 0: subnormals
        assert theory > int(layers[peak * gain ** layers < limits["smallest_normal"]][0])


def test_the_16_bit_graphs_are_warmed_after_every_other_key():
    from core import per_layer
    from pages import warmup
    import inspect
    per_layer.warm_up(keys=per_layer.HALF_KEYS, full_size=False)
    for key in per_layer.HALF_KEYS:
        assert (None, *key) in per_layer._steps
    source = inspect.getsource(warmup._steps)
    assert source.index("HALF_KEYS, full_size=False") > source.index("WARM_KEYS[1:]")
    assert not set(per_layer.HALF_KEYS) & set(per_layer.WARM_KEYS)


@pytest.mark.parametrize("activation", ["linear", "relu", "tanh"])
def test_residual_scale_0_makes_every_skipped_layer_exactly_the_identity(activation):
    """beta = 0: h_l = h_1 and dLoss/dh_l = dLoss/dh_L exactly, for every l >= 2."""
    spec = ModelSpec(depth=8, width=32, batch_size=16, activation=activation,
                     residual=True, residual_scale=0.0, bias_stddev=0.2)
    table = compute_profile(spec)
    for column in ("activation_norm", "activation_mean", "activation_std",
                   "signal_grad_norm"):
        assert (table[column] == table[column].iloc[0]).all(), column
    plain = compute_profile(spec.replace(residual_scale=0.5))
    assert plain["activation_norm"].iloc[-1] != plain["activation_norm"].iloc[0]


def test_residual_scale_1_is_the_plain_skip_and_scales_between_differ():
    spec = ModelSpec(depth=5, width=16, batch_size=8, residual=True)
    assert spec.residual_scale == 1.0
    one = compute_profile(spec)
    assert one.equals(compute_profile(spec.replace(residual_scale=1.0)))
    half = compute_profile(spec.replace(residual_scale=0.5))
    assert half["activation_norm"].iloc[-1] < one["activation_norm"].iloc[-1]
    # without skips the scale does nothing
    plain = ModelSpec(depth=5, width=16, batch_size=8)
    assert compute_profile(plain).equals(compute_profile(plain.replace(residual_scale=0.5)))


def test_profiles_measures_the_missing_ones_side_by_side_and_equal_to_profile(monkeypatch):
    import threading

    import pandas as pd

    from core import per_layer
    base = ModelSpec(depth=7, width=16, batch_size=8, activation="tanh", seed=4242)
    specs = [base.replace(seed=4242 + k) for k in range(3)] + [base]  # one repeated
    threads = []
    real = per_layer.profile

    def spy(spec):
        threads.append(threading.current_thread().name)
        return real(spec)
    monkeypatch.setattr(per_layer, "profile", spy)
    tables = per_layer.profiles(specs)
    assert [len(table) for table in tables] == [7] * 4
    for spec, table in zip(specs, tables):
        pd.testing.assert_frame_equal(table, compute_profile(spec))
    assert any(name.startswith("profiles") for name in threads)  # one on the helper
    assert threading.current_thread().name in threads
