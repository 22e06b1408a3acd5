"""core.charts.finite_width: valid, JSON-safe specs; theory drawn only where it applies;
dead and overflowed seeds marked at the edges (a linear axis cannot show ±inf)."""
import json

import numpy as np
import pandas as pd

from core.charts import finite_width as charts
from core.finite_width import FiniteWidthSpec, layer_spread, theory_moments


def fake_fan(values: dict) -> pd.DataFrame:
    """{seed: per-layer ln gain²} as measure()'s fan."""
    rows = [(seed, layer, value) for seed, series in values.items()
            for layer, value in enumerate(series, start=1)]
    return pd.DataFrame(rows, columns=["seed", "layer", "log_gain_sq"])


def spread_of(fan: pd.DataFrame, width: int, covered: bool = True) -> pd.DataFrame:
    depth = int(fan["layer"].max())
    spec = FiniteWidthSpec(seeds=fan["seed"].nunique(), depth=depth, width=width,
                           init="he_normal" if covered else "orthogonal")
    return layer_spread(spec, fan)


def layers_of(spec: dict) -> list:
    return spec.get("layer", [spec])


def test_fan_marks_dead_and_overflowed_seeds_and_is_json_safe():
    fan = fake_fan({0: [0.1, -0.2, -0.5, -0.4], 1: [0.3, -np.inf, -np.inf, -np.inf],
                    2: [1.0, 2.0, np.inf, np.nan], 3: [-0.1, -0.3, -0.2, -0.6]})
    chart = charts.fan_chart(fan, spread_of(fan, 16), 16)
    spec = chart.to_dict()
    text = json.dumps(spec, allow_nan=False, ensure_ascii=False)  # no inf or nan in the spec
    assert "Infinity" not in text
    marks = charts._edge_marks(fan, -3.0, 4.0)
    assert list(marks["seed"]) == [1, 2] and list(marks["layer"]) == [2, 3]
    assert list(marks["plotted"]) == [-3.0, 4.0]
    assert "dead (gain 0)" in text and "overflow (gain ∞, then nan)" in text
    assert "theory −5l/(2n) ± 2√(5l/n)" in text
    assert "4 seeds, width 16" in spec["title"]["text"]


def test_fan_band_is_theorys_and_absent_where_theory_says_nothing():
    fan = fake_fan({seed: np.linspace(0, -1, 10) + seed * 0.1 for seed in range(5)})
    chart = charts.fan_chart(fan, spread_of(fan, 32), 32)
    area = next(layer for layer in layers_of(chart.to_dict())
                if layer.get("mark", {}).get("type") == "area")
    data = chart.to_dict()["datasets"]
    mean, var = theory_moments(np.arange(1, 11), 32)
    highs = [row["high"] for rows in data.values() for row in rows if "high" in row]
    np.testing.assert_allclose(highs[:10], mean + 2 * np.sqrt(var))
    assert area["encoding"]["y2"]["field"] == "high"
    note = "Theory gives the band for ReLU with He initialization only."
    uncovered = charts.fan_chart(fan, spread_of(fan, 32, covered=False), 32, note)
    text = json.dumps(uncovered.to_dict(), allow_nan=False, ensure_ascii=False)
    assert "theory −5l/(2n)" not in text and "Theory gives the" in text
    assert not [layer for layer in layers_of(uncovered.to_dict())
                if layer.get("mark", {}).get("type") == "area"]


def test_spread_chart_has_theory_line_axis_titles_and_tooltips():
    fans = [spread_of(fake_fan({seed: np.cumsum(np.random.default_rng(seed).normal(
        size=8)) / np.sqrt(width) for seed in range(6)}), width) for width in (8, 32)]
    chart = charts.spread_chart(pd.concat(fans, ignore_index=True), 8)
    spec = chart.to_dict()
    text = json.dumps(spec, allow_nan=False, ensure_ascii=False)
    assert "theory 5·l/n" in text and "depth / width, l/n" in text
    assert "Var ln(‖h_l‖²/‖x‖²) over seeds (nats²)" in text
    lines = [layer for layer in layers_of(spec) if "tooltip" in layer.get("encoding", {})]
    assert any(any(t.get("title") == "5l/n (theory)" for t in layer["encoding"]["tooltip"])
               for layer in lines)
    theory = [rows for rows in spec["datasets"].values() if rows and "kind" in rows[0]]
    assert theory and theory[0][-1]["theory_var"] == 5 * theory[0][-1]["layers_per_width"]
    uncovered = charts.spread_chart(spread_of(fake_fan({0: [0.1, 0.2], 1: [0.0, 0.3]}), 8,
                                              covered=False), 8)
    assert "theory 5·l/n (Hanin" not in json.dumps(uncovered.to_dict(), ensure_ascii=False)
