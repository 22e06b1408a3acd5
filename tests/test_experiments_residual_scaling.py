"""core.experiments.residual_scaling: skips h + beta branch(h) measured against the
theory (1 + beta^2)^(L-1), the presets, and the training runs on the Remedies baseline."""
import math

import numpy as np
import pytest

from core.experiments import remedies
from core.experiments import residual_scaling as rs
from core.theory import residual_growth


def test_presets_are_1_one_over_sqrt_depth_and_0():
    assert [rs.scale_of(preset, 25) for preset in rs.PRESETS] == [1.0, 0.2, 0.0]
    assert rs.preset_label("1/sqrt(L)", 25) == "β = 1/√L = 0.2"
    with pytest.raises(ValueError, match="preset"):
        rs.scale_of("2", 25)
    spec = rs.network("linear", 20, 0.5)
    assert spec.residual and spec.residual_scale == 0.5 and spec.init == "lecun_normal"
    assert spec.activation == "linear" and spec.bias_stddev == 0 and spec.width == 256


@pytest.mark.parametrize("depth, preset", [(20, "1"), (20, "1/sqrt(L)"), (50, "1/sqrt(L)")])
def test_linear_lecun_branch_grows_like_one_plus_beta_squared(depth, preset):
    """The forward E||h||^2 over the L - 1 skipped layers, over three seeds, within a
    statistical tolerance of (1 + beta^2)^(L-1) (measured ratios 0.84-1.10 at width 256)."""
    from core.per_layer import compute_profile
    beta = rs.scale_of(preset, depth)
    theory = residual_growth(beta, depth - 1)
    for seed in range(3):
        norm = compute_profile(rs.network("linear", depth, beta).replace(seed=seed))[
            "activation_norm"].to_numpy(np.float64)
        measured = (norm[-1] / norm[0]) ** 2
        assert abs(math.log(measured / theory)) < math.log(1.25), (seed, measured, theory)


def test_profiles_and_growth_table_show_theory_beside_both_branches():
    table = rs.signal_profiles("linear", 10)
    assert list(table["preset"].unique()) == list(rs.PRESETS)
    zero = table[table["preset"] == "0"]
    assert (zero["forward_gain"] == 1).all() and (zero["backward_gain"] == 1).all()
    one = table[table["preset"] == "1"]
    np.testing.assert_allclose(one["theory_forward_gain"], 2 ** ((one["layer"] - 1) / 2))
    growth = rs.growth_table(10).set_index(["branch", "β"])
    linear = growth.loc[(rs.BRANCH_NAMES["linear"], "β = 1")]
    relu = growth.loc[(rs.BRANCH_NAMES["relu"], "β = 1")]
    assert linear["theory (1 + β²)^(L−1)"] == 2 ** 9
    assert 0.8 < linear["forward, measured / theory"] < 1.25
    # ReLU's positive outputs add coherently: measured well above the theory
    assert relu["forward, measured / theory"] > 5
    assert growth.loc[(rs.BRANCH_NAMES["relu"], "β = 0"), "forward growth, measured"] == 1
    assert "β = 1" in rs.growth_facts(rs.growth_table(10))


def test_training_runs_are_the_baseline_then_each_beta():
    runs = rs.training_runs("vanishing", ("1", "0"), seed=3, steps=50)
    baseline, training = runs[remedies.BASELINE]
    assert baseline == remedies.SCENARIOS["vanishing"][1] and not baseline.residual
    assert training.seed == 3 and training.steps == 50
    labels = list(runs)
    assert labels == ["baseline", "skips, β = 1", "skips, β = 0 (learned)"]
    assert runs[labels[2]][0] == baseline.replace(residual=True, residual_scale=0.0)


def test_a_learned_scale_moves_off_0_in_training_and_is_reported():
    from core.spec import ModelSpec
    from core.training import TrainingSpec, train
    table = train(ModelSpec(depth=3, width=16, residual=True, residual_scale=0.0),
                  TrainingSpec(steps=20, eval_every=10, learning_rate=0.2))
    scales = table.attrs["residual_scales"]
    assert len(scales) == 2 and all(abs(scale) > 1e-4 for scale in scales), scales
    text = rs.learned_scales({"skips, β = 0": table})
    assert "2 learned β" in text and "after 20 steps" in text
    fixed = train(ModelSpec(depth=3, width=16, residual=True, residual_scale=0.5),
                  TrainingSpec(steps=5, eval_every=5))
    assert fixed.attrs["residual_scales"] == [0.5, 0.5]
    assert rs.learned_scales({"fixed": fixed}) == ""
