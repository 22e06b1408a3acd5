"""core.charts.grids: the init x activation heatmap and the sigma_w sweep."""
import json
import math

import pandas as pd

from core.charts import grids


def fake_grid():
    return pd.DataFrame({
        "init": ["a", "a", "b", "b"], "activation": ["x", "y", "x", "y"],
        "ratio": [1.0, math.inf, 0.0, math.nan], "log10_ratio": [0.0, math.inf, math.nan,
                                                                 math.nan],
        "verdict": ["healthy", "exploding", "vanishing", "undefined"],
        "weight_grad_ratio": [1.0] * 4, "theory_log10_ratio": [0.0] * 4})


def test_heatmap_labels_non_finite_cells():
    spec = grids.heatmap_chart(fake_grid()).to_dict()
    values = spec["datasets"][next(iter(spec["datasets"]))]
    labels = {row["label"] for row in values}
    assert {"ratio inf (overflow)", "ratio 0 (underflow)", "ratio nan", "+0.0"} <= labels
    assert {row["exact"] for row in values} == {"1", "inf", "0", "nan"}  # format_value
    assert spec["title"]["text"].startswith("Signal ratio")
    assert "tooltip" in json.dumps(spec)
    assert "#6b6b6b" in json.dumps(spec)  # non-finite cells are drawn grey, not dropped


def test_sweep_chart_has_title_edges_and_pinned_marks():
    rows = pd.DataFrame({"activation": ["tanh"] * 3, "sigma_w": [0.5, 1.0, 2.0],
                         "kind": ["measured", "measured", "theory"],
                         "ratio": [0.0, 1.0, math.inf], "log10_ratio": [0, 0, 0]})
    spec = grids.sweep_chart(rows, {"tanh": 1.0, "relu": None}, 10).to_dict()
    text = json.dumps(spec)
    assert "Goldilocks" in text and "edge of chaos" in text and "underflow (0)" in text
    assert spec["title"]["text"] == "The Goldilocks zone at depth 10"
    # the log chart's own layers, then the rule at 1, then the edge rules, in one layer
    *lines, one, edges = spec["layer"]
    assert [layer["mark"]["type"] for layer in lines] == ["line", "point", "line"]
    assert one["mark"]["type"] == "rule" and one["encoding"]["y"]["field"] == "y"
    assert edges["mark"]["type"] == "rule" and edges["encoding"]["x"]["field"] == "sigma_w"
    no_edges = grids.sweep_chart(rows, {"tanh": None}, 10).to_dict()
    assert len(no_edges["layer"]) == len(spec["layer"]) - 1
    assert no_edges["layer"][-1]["encoding"]["y"]["field"] == "y"
