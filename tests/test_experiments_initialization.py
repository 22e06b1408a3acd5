"""core.experiments.initialization: formulas, side by side, the grid, the sweep, and
what the page says about them."""
import math

import numpy as np
import pandas as pd
import pytest

from core.experiments import initialization
from core.spec import ModelSpec


def test_formula_table_against_keras():
    table = initialization.formula_table(64, 256).set_index("initializer")
    np.testing.assert_allclose(table.keras_std, table.theory_std, rtol=0.05)
    # The notes' fan-average He differs from Keras' he_normal unless n_in == n_out.
    assert table.loc["he_avg_normal", "theory_std"] == pytest.approx(math.sqrt(4 / 320))
    assert table.loc["he_normal", "theory_std"] == pytest.approx(math.sqrt(2 / 64))
    assert table.loc["leaky He", "theory_std"] == pytest.approx(
        math.sqrt(2 / (1 + 0.01 ** 2) / 64))


def test_grid_small_matched_pairs():
    table = initialization.grid(depth=12, width=64, inits=("random_normal", "he_normal"),
                           activations=("tanh", "relu"))
    assert list(table.columns[:5]) == ["init", "activation", "ratio", "log10_ratio",
                                       "verdict"]
    cell = table.set_index(["init", "activation"])
    assert cell.loc[("he_normal", "relu"), "verdict"] == "healthy"
    assert cell.loc[("random_normal", "relu"), "verdict"] == "vanishing"
    assert table.attrs["seconds"] > 0
    np.testing.assert_allclose(cell.log10_ratio, cell.theory_log10_ratio, atol=1.0)


def test_grid_cells_equal_core_profile():
    from core.per_layer import profile
    from core.summary import summarize
    table = initialization.grid(depth=6, width=32, batch_size=8, seed=4,
                           inits=("orthogonal",), activations=("elu", "tanh"))
    for _, row in table.iterrows():
        spec = ModelSpec(depth=6, width=32, batch_size=8, seed=4, init="orthogonal",
                         activation=row.activation)
        expected = profile(spec)
        assert row.ratio == pytest.approx(summarize(expected)["ratio"], rel=1e-6)
        assert row.weight_grad_ratio == pytest.approx(
            summarize(expected, "weight_grad_norm")["ratio"], rel=1e-6)
        assert row.last_activation_std == pytest.approx(
            expected.activation_std.iloc[-1], rel=1e-6)


def test_sweep_crosses_at_the_edge_of_chaos():
    rows = initialization.sweep(depth=15, width=128, batch_size=32, activations=("relu",),
                           sigmas=(1.0, 1.2, 1.35, 1.5, 1.7), theory_points=41)
    assert set(rows.kind) == {"measured", "theory"}
    assert initialization.crossing(rows, "relu", "theory") == pytest.approx(math.sqrt(2),
                                                                       rel=0.02)
    assert initialization.crossing(rows, "relu", "measured") == pytest.approx(math.sqrt(2),
                                                                         rel=0.1)
    assert initialization.critical_sigma("leaky_relu", 0.3) == pytest.approx(
        math.sqrt(2 / 1.09))


def test_each_measured_sweep_point_is_the_profile_of_its_network():
    """The sweep measures every sigma_w of an activation in one batched pass: each point
    is the signal ratio core.per_layer measures for W ~ N(0, sigma_w^2 / n), no bias."""
    from core.per_layer import profile
    from core.summary import summarize
    sigmas = (0.7, 1.0, 1.4, 2.0)
    rows = initialization.sweep(depth=12, width=64, batch_size=16, seed=3,
                                activations=("tanh", "relu"), sigmas=sigmas,
                                theory_points=5)
    for activation in ("tanh", "relu"):
        measured = rows[(rows.kind == "measured") & (rows.activation == activation)]
        assert measured.sigma_w.tolist() == pytest.approx(list(sigmas))
        for sigma, log10_ratio in zip(measured.sigma_w, measured.log10_ratio):
            spec = ModelSpec(depth=12, width=64, batch_size=16, seed=3,
                             activation=activation, init="variance_scaling",
                             scale=sigma ** 2)
            assert log10_ratio == pytest.approx(
                summarize(profile(spec))["log10_ratio"], abs=1e-4), (activation, sigma)


def test_compare_and_gain_columns():
    table = initialization.compare(ModelSpec(depth=6, width=32, batch_size=16,
                                        activation="relu"), ("glorot_normal", "he_normal"))
    assert list(dict.fromkeys(table.init)) == ["glorot_normal", "he_normal"]
    one = table[table.init == "he_normal"]
    signal = one.signal_grad_norm.to_numpy()
    np.testing.assert_allclose(one.measured_gain.to_numpy()[1:], signal[:-1] / signal[1:])
    np.testing.assert_allclose(one.theory_gain.to_numpy()[1:], 1.0, rtol=1e-6)


def test_page_calls_are_cached_and_return_fresh_copies():
    base = ModelSpec(depth=4, width=8, batch_size=4, activation="tanh")
    first = initialization.compare(base, ("he_normal",))
    assert initialization.compare.contains(base, ("he_normal",))
    first["signal_grad_norm"] = 0.0  # a caller may modify what it gets
    again = initialization.compare(base, ("he_normal",))
    assert (again["signal_grad_norm"] > 0).all()
    table = initialization.grid(depth=4, width=8, inits=("he_normal",),
                                activations=("relu",))
    assert initialization.grid(depth=4, width=8, inits=("he_normal",),
                          activations=("relu",)).attrs["seconds"] == table.attrs["seconds"]


def test_formula_lines_and_grid_caption():
    formulas = initialization.formula_table(64, 256)
    lines = initialization.formula_lines(formulas)
    assert len(lines) == len(formulas)
    latex, text = dict(zip(formulas.initializer, lines))["he_normal"]
    assert latex.startswith(r"\texttt{he\_normal}:\ ")
    assert text.startswith(f"σ = **{math.sqrt(2 / 64):.3g}** (formula) · Keras drew ")
    table = pd.DataFrame({"ratio": [1.0] * 36})
    table.attrs["seconds"] = 1.234
    caption = initialization.grid_caption(table, 10, 128)
    assert caption.startswith("36 Keras networks, depth 10, width 128, batch 32, seed 0: "
                              "measured in 1.2 s.")


def test_goldilocks_text_names_each_edge_and_crossing():
    rows = pd.DataFrame({"activation": ["tanh"] * 2 + ["relu"] * 2,
                         "sigma_w": [0.5, 2.0, 0.5, 2.0], "kind": "measured",
                         "log10_ratio": [-1.0, 1.0, -2.0, -1.0]})
    assert initialization.edges_of_chaos() == {"tanh": 1.0,
                                               "relu": pytest.approx(math.sqrt(2))}
    text = initialization.goldilocks_text(rows)
    assert text == ("**tanh**: theory's edge of chaos σ_w = 1; the measured ratio crosses "
                    "1 at σ_w ≈ 1 · **relu**: theory's edge of chaos σ_w = 1.41; the "
                    "measured ratio crosses 1 at σ_w ≈ not in range")


def test_with_pinned_names_the_pinned_inits_and_drops_their_theory():
    import numpy as np
    import pandas as pd
    from core.experiments.initialization import describe, with_pinned
    now = pd.DataFrame({"init": ["he_normal"], "layer": [1], "signal_grad_norm": [1.0],
                        "theory_signal": [1.0]})
    before = now.assign(init="glorot_normal", signal_grad_norm=0.5)
    both = with_pinned(now, before, "relu, depth 8")
    assert list(both.init) == ["he_normal", "pinned: glorot_normal (relu, depth 8)"]
    assert both.signal_grad_norm.tolist() == [1.0, 0.5] and np.isnan(both.theory_signal[1])
    assert describe({"inits": ("he_normal",), "activation": "relu", "depth": 8}) == \
        "he_normal, relu, depth 8"
