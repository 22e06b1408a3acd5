"""core.finite_width: many seeds in one batched pass, against core.per_layer (exact) and
Hanin & Rolnick's Var ln(||h_L||^2/||x||^2) ~ 5L/n (statistical)."""
import math

import numpy as np
import pytest

from core import finite_width as fw
from core.finite_width import FiniteWidthSpec
from core.per_layer import compute_profile
from core.summary import summarize


@pytest.mark.parametrize("changes", [
    dict(activation="tanh", init="glorot_normal", bias_stddev=0.1, batch_size=4, seed=5),
    dict(activation="leaky_relu", negative_slope=0.2, init="he_uniform", no_bias=True,
         batch_size=1, seed=11),
    dict(activation="relu", init="orthogonal", gain=1.3, batch_size=3, dtype="float64")])
def test_every_seed_is_the_profiles_network(changes):
    """Seed k's backward gain is core.per_layer's signal ratio for the same ModelSpec, and
    its forward gain the last layer's activation norm over the input's, to 1e-5."""
    spec = FiniteWidthSpec(seeds=3, depth=12, width=32, **changes)
    table = fw.seed_table(spec)
    assert list(table.columns) == fw.SEED_COLUMNS
    assert list(table["seed"]) == [spec.seed, spec.seed + 1, spec.seed + 2]
    fan = fw.measure(spec)["fan"]
    for row in table.itertuples():
        profile = compute_profile(spec.network(row.seed))
        assert row.backward_gain == pytest.approx(summarize(profile)["ratio"], rel=1e-5)
        forward = profile["activation_norm"].iloc[-1] / profile.attrs["input_norm"]
        assert row.forward_gain == pytest.approx(forward, rel=1e-5)
        layers = fan[fan["seed"] == row.seed]["log_gain_sq"].to_numpy()
        expected = 2 * np.log(profile["activation_norm"] / profile.attrs["input_norm"])
        np.testing.assert_allclose(layers, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-12), ("float32", 2e-6)])
def test_a_linear_orthogonal_network_has_gain_exactly_one_for_every_seed(dtype, tolerance):
    spec = FiniteWidthSpec(seeds=20, depth=30, width=16, batch_size=2, activation="linear",
                           init="orthogonal", no_bias=True, dtype=dtype)
    table = fw.seed_table(spec)
    np.testing.assert_allclose(table["forward_gain"], 1.0, rtol=0, atol=tolerance * 30)
    np.testing.assert_allclose(table["backward_gain"], 1.0, rtol=0, atol=tolerance * 30)


@pytest.mark.parametrize("depth, width", [(10, 32), (20, 64), (4, 128)])
def test_relu_he_spread_matches_5_l_over_n(depth, width):
    """Var and mean of ln(||h_L||^2/||x||^2) over 300 seeds against 5L/n and -5L/(2n).
    The variance of a 300-sample variance is about 2/299 of its square (8%): 25% is
    three standard errors, plus the first-order theory's own error (+8% at n = 32)."""
    spec = FiniteWidthSpec(seeds=300, depth=depth, width=width)
    spread = fw.layer_spread(spec)
    last = spread.iloc[-1]
    assert last.dead_seeds == 0
    mean, var = fw.theory_moments(depth, width)
    assert last.theory_var == pytest.approx(5 * depth / width)
    assert last.measured_var == pytest.approx(var, rel=0.25)
    assert abs(last.measured_mean - mean) < 4 * math.sqrt(var / 300) + 0.1 * abs(mean)
    # the mean gain itself is 1 (E ||h_L||^2 / ||x||^2 = 1 exactly): 4 standard errors
    gains = np.square(fw.seed_table(spec)["forward_gain"])
    assert abs(gains.mean() - 1) < 4 * gains.std() / math.sqrt(300)


def test_each_layer_adds_5_over_n_independently():
    """Hanin: the layers' ratios r_l = ||h_l||^2/||h_(l-1)||^2 are independent, each with
    Var ln r ~ 5/n and mean ~ -5/(2n). 200 seeds x 20 layers give 4000 samples of ln r at
    n = 128: the variance's standard error is under 3%, the first-order theory's own
    error about +2% (so 10% separates 5/n from 4/n or 6/n)."""
    spec = FiniteWidthSpec(seeds=200, depth=20, width=128, seed=500)
    fan = fw.measure(spec)["fan"]
    gains = fan["log_gain_sq"].to_numpy().reshape(spec.seeds, spec.depth)
    steps = np.diff(np.concatenate([np.zeros((spec.seeds, 1)), gains], axis=1), axis=1)
    mean, var = fw.theory_moments(1, spec.width)
    assert steps.var(ddof=1) == pytest.approx(var, rel=0.10)
    assert abs(steps.mean() - mean) < 4 * math.sqrt(var / steps.size) + 0.05 * abs(mean)
    # independent layers: neighbouring steps are uncorrelated (|r| < 4 / sqrt(samples))
    correlation = np.corrcoef(steps[:, :-1].ravel(), steps[:, 1:].ravel())[0, 1]
    assert abs(correlation) < 4 / math.sqrt(steps[:, 1:].size)


def test_dead_networks_have_gain_zero_and_leave_the_variance():
    spec = FiniteWidthSpec(seeds=200, depth=20, width=4)  # 72% dead (theory)
    table = fw.seed_table(spec)
    dead = table["forward_gain"] == 0
    assert 0 < dead.sum() < 200
    assert (table.loc[dead, "backward_gain"].isna() | (table.loc[dead, "backward_gain"] == 0)
            | np.isinf(table.loc[dead, "backward_gain"])).all()
    spread = fw.layer_spread(spec)
    assert spread["dead_seeds"].is_monotonic_increasing
    assert spread["dead_seeds"].iloc[-1] == dead.sum()
    assert np.isfinite(spread["measured_var"]).all()
    assert "dead" in fw.spread_text(fw.spread_over_widths(spec, widths=(4, 32)), spec)


def test_overflow_is_inf_then_nan():
    """Layer l is 3^l x: its norm overflows float32 where 3^l ||x|| passes 3.4e38, its
    entries a layer or so later, and the next layer multiplies inf by I's zeros (nan)."""
    from core.weights import make_data
    spec = FiniteWidthSpec(seeds=2, depth=100, width=4, activation="linear",
                           init="identity", gain=3.0, no_bias=True)
    assert np.isnan(fw.seed_table(spec)["forward_gain"]).all()
    fan = fw.measure(spec)["fan"]
    first = fan[~np.isfinite(fan["log_gain_sq"])].groupby("seed")["layer"].min()
    for seed in (0, 1):
        norm = np.linalg.norm(make_data(spec.network(seed))[0].astype(np.float64))
        expected = math.ceil(math.log(np.finfo(np.float32).max / norm, 3) - 1e-6)
        assert first[seed] == expected
        values = fan[fan["seed"] == seed].set_index("layer")["log_gain_sq"]
        assert values[expected] == np.inf and np.isnan(values[100])
    spread = fw.layer_spread(spec)
    assert list(spread["overflow_seeds"].iloc[[78, 99]]) == [0, 2]


def test_theory_covers_relu_he_with_one_input_only():
    assert fw.theory_applies(FiniteWidthSpec()) is None
    assert fw.theory_applies(FiniteWidthSpec(init="he_uniform")) is None
    for changes, words in ((dict(init="glorot_normal"), "He initialization"),
                           (dict(activation="tanh"), "ReLU"),
                           (dict(bias_stddev=0.1), "zero biases"),
                           (dict(batch_size=8), "one input")):
        spec = FiniteWidthSpec(**changes)
        assert words in fw.theory_applies(spec)
    spread = fw.layer_spread(FiniteWidthSpec(seeds=4, depth=3, width=8, init="orthogonal"))
    assert spread["theory_var"].isna().all()


@pytest.mark.parametrize("changes, words", [
    (dict(seeds=1), "seeds"), (dict(depth=0), "depth"), (dict(dtype="float16"), "dtype"),
    (dict(seeds=10_000, depth=200, width=128), "budget"),
    (dict(seed=2 ** 31 - 1, seeds=5), "seed"), (dict(init="he_avg"), "init"),
    (dict(seeds=300, depth=20, width=128, batch_size=256), "batch_size")])
def test_the_spec_names_what_is_wrong(changes, words):
    with pytest.raises(ValueError, match=words):
        FiniteWidthSpec(**changes)


def test_widths_progress_and_cache():
    spec = FiniteWidthSpec(seeds=3, depth=3, width=8)
    calls = []
    spread = fw.spread_over_widths(spec, widths=(4, 8), on_width=lambda *a: calls.append(a))
    assert calls == [(1, 2), (2, 2)]
    assert list(spread["width"].unique()) == [4, 8]
    assert fw.is_cached(spec, widths=(4, 8)) and not fw.is_cached(spec, widths=(16,))
    assert spread["layers_per_width"].iloc[-1] == pytest.approx(3 / 8)


def test_spread_text_reads_its_own_numbers():
    """Var ln gain² = 4 means sd(ln gain) = 1: the middle 95% of gains span e^(2 x 1.96)."""
    import pandas as pd
    spread = pd.DataFrame({"width": [8, 128], "depth": 10, "layer": 10,
                           "measured_var": [4.0, 0.25], "dead_seeds": [3, 0]})
    text = fw.spread_text(spread, FiniteWidthSpec(seeds=50, depth=10))
    assert "is 0.25 at width 128 but 4 at width 8" in text
    assert f"{math.exp(1.96 * 0.5):.3g} and {math.exp(1.96 * 2):.3g}" in text
    assert "3 of 50 width-8 networks were dead" in text
