"""core.initialization (grid, sweep, formulas, CLI) and its chart builders."""
import io
import json
import math
import subprocess
import sys
from contextlib import redirect_stdout

import numpy as np
import pandas as pd
import pytest

from core import initialization as init_core
from core.charts import profiles as charts
from core.spec import ModelSpec
from tests.conftest import ROOT


def test_formula_table_against_keras():
    table = init_core.formula_table(64, 256).set_index("initializer")
    np.testing.assert_allclose(table.keras_std, table.theory_std, rtol=0.05)
    # The notes' fan-average He differs from Keras' he_normal unless n_in == n_out.
    assert table.loc["he_avg_normal", "theory_std"] == pytest.approx(math.sqrt(4 / 320))
    assert table.loc["he_normal", "theory_std"] == pytest.approx(math.sqrt(2 / 64))
    assert table.loc["leaky He", "theory_std"] == pytest.approx(
        math.sqrt(2 / (1 + 0.01 ** 2) / 64))


def test_grid_small_matched_pairs():
    table = init_core.grid(depth=12, width=64, inits=("random_normal", "he_normal"),
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
    table = init_core.grid(depth=6, width=32, batch_size=8, seed=4,
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
    rows = init_core.sweep(depth=15, width=128, batch_size=32, activations=("relu",),
                           sigmas=(1.0, 1.2, 1.35, 1.5, 1.7), theory_points=41)
    assert set(rows.kind) == {"measured", "theory"}
    assert init_core.crossing(rows, "relu", "theory") == pytest.approx(math.sqrt(2),
                                                                       rel=0.02)
    assert init_core.crossing(rows, "relu", "measured") == pytest.approx(math.sqrt(2),
                                                                         rel=0.1)
    assert init_core.critical_sigma("leaky_relu", 0.3) == pytest.approx(
        math.sqrt(2 / 1.09))


def test_compare_and_gain_columns():
    table = init_core.compare(ModelSpec(depth=6, width=32, batch_size=16,
                                        activation="relu"), ("glorot_normal", "he_normal"))
    assert list(dict.fromkeys(table.init)) == ["glorot_normal", "he_normal"]
    one = table[table.init == "he_normal"]
    signal = one.signal_grad_norm.to_numpy()
    np.testing.assert_allclose(one.measured_gain.to_numpy()[1:], signal[:-1] / signal[1:])
    np.testing.assert_allclose(one.theory_gain.to_numpy()[1:], 1.0, rtol=1e-6)


def test_glorot_bengio_histograms_sum_to_one():
    histograms, profiles = init_core.glorot_bengio("sigmoid", depth=3, width=32)
    sums = histograms.groupby(["init", "layer"]).fraction.sum()
    np.testing.assert_allclose(sums, 1.0)
    summary = init_core.glorot_bengio_summary(profiles)
    assert len(summary) == 3
    assert list(summary.columns[:4]) == ["initialization", "signal ratio 1 / L",
                                         "weight-gradient ratio 1 / L",
                                         "saturated (mean over layers)"]
    # N(0, 1) weights saturate sigmoid units; Glorot's do not.
    assert summary.iloc[0]["saturated (mean over layers)"] > 0.3
    assert summary.iloc[2]["saturated (mean over layers)"] < 0.05


def fake_grid():
    return pd.DataFrame({
        "init": ["a", "a", "b", "b"], "activation": ["x", "y", "x", "y"],
        "ratio": [1.0, math.inf, 0.0, math.nan], "log10_ratio": [0.0, math.inf, math.nan,
                                                                 math.nan],
        "verdict": ["healthy", "exploding", "vanishing", "undefined"],
        "weight_grad_ratio": [1.0] * 4, "theory_log10_ratio": [0.0] * 4})


def test_heatmap_labels_non_finite_cells():
    spec = charts.heatmap_chart(fake_grid()).to_dict()
    values = spec["datasets"][next(iter(spec["datasets"]))]
    labels = {row["label"] for row in values}
    assert {"ratio inf (overflow)", "ratio 0 (underflow)", "ratio nan", "+0.0"} <= labels
    assert spec["title"]["text"].startswith("Signal ratio")
    assert "tooltip" in json.dumps(spec)
    assert "#6b6b6b" in json.dumps(spec)  # non-finite cells are drawn grey, not dropped


def test_sweep_and_gain_charts_have_titles_and_marks():
    rows = pd.DataFrame({"activation": ["tanh"] * 3, "sigma_w": [0.5, 1.0, 2.0],
                         "kind": ["measured", "measured", "theory"],
                         "ratio": [0.0, 1.0, math.inf], "log10_ratio": [0, 0, 0]})
    text = json.dumps(charts.sweep_chart(rows, {"tanh": 1.0, "relu": None}, 10).to_dict())
    assert "Goldilocks" in text and "edge of chaos" in text and "underflow (0)" in text
    curves = pd.DataFrame({"z": [0.0, 1.0], "activation": "tanh", "value": [0, 0.76],
                           "slope": [1, 0.42]})
    from core.charts.curves import activation_curves_chart
    chart = activation_curves_chart(curves, "slope", guide=0.25)
    assert "0.25" in json.dumps(chart.to_dict())


def run_cli(*argv):
    from core.cli import main
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def test_cli_grid_and_sweep():
    code, text = run_cli("grid", "--depth", "5", "--width", "16", "--inits",
                         "he_normal", "--activations", "relu,tanh", "--format", "json")
    assert code == 0 and len(json.loads(text)) == 2
    code, text = run_cli("sweep", "--depth", "5", "--width", "16", "--sigmas", "1,2",
                         "--activations", "relu")
    table = pd.read_csv(io.StringIO(text))
    assert code == 0 and set(table.kind) == {"measured", "theory"}


@pytest.mark.parametrize("argv", [["grid", "--inits", "nope"], ["grid", "--depth", "0"],
                                  ["sweep", "--sigmas", "1,abc"],
                                  ["sweep", "--batch-size", "5000"]])
def test_cli_bad_flags_exit_2_in_one_line(argv):
    probe = ("import sys; from core.cli import main; code = main(sys.argv[1:]); "
             "print('tensorflow' in sys.modules); sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", probe, *argv], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert result.stdout.strip() == "False"  # rejected before TensorFlow was imported


def test_ratio_over_seeds_is_the_median():
    import pandas as pd
    from core.initialization import ratio_over_seeds
    tables = [pd.DataFrame({"weight_grad_norm": [a, 1.0]}) for a in (2.56, 1.49, 1.04)]
    result = ratio_over_seeds(tables)
    assert result["median"] == 1.49 and result["per_seed"] == [2.56, 1.49, 1.04]
    assert result["flat"] and (result["low"], result["high"]) == (1.04, 2.56)
    assert not ratio_over_seeds([pd.DataFrame({"weight_grad_norm": [0.1, 1.0]})])["flat"]


def test_layer_axes_have_integer_ticks():
    from core.charts import profiles as charts
    from core.spec import ModelSpec
    profiles = init_core.compare(ModelSpec(depth=4, width=8, batch_size=4),
                                 ("he_normal", "glorot_normal"))
    saturated = charts.by_init_chart(profiles, "saturated_fraction", "t", "y",
                                     fraction=True).to_dict()
    assert saturated["encoding"]["x"]["axis"]["format"] == "d"
    assert saturated["encoding"]["x"]["axis"]["tickMinStep"] == 1
    gain = json.dumps(charts.gain_chart(profiles).to_dict())
    assert '"format": "d"' in gain
