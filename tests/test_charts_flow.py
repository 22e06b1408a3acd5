"""core.charts.flow: log charts of flow tables, with 0 and inf marked."""
import numpy as np
import pandas as pd

from core.charts import flow as charts
from core.experiments.your_network import by_block


def table():
    return pd.DataFrame({"index": [1, 2, 3], "name": ["a", "b", "c"],
                         "block": ["x", "x", "y"], "signal_grad_norm": [0.0, 1.0, np.inf],
                         "weight_grad_norm": [1e-3, 1e-2, 1e-1],
                         "dead_fraction": [0.0, 0.0, 0.0]})


def test_flow_chart_marks_zero_and_inf_on_a_log_axis():
    spec = charts.flow_chart(table(), "Gradient flow").to_dict()
    data = next(iter(spec["datasets"].values()))
    statuses = {row["status"] for row in data}
    assert {"underflow (0)", "overflow (inf)", "finite"} <= statuses
    y = spec["layer"][0]["encoding"]["y"]
    assert y["scale"]["type"] == "log" and y["title"] == charts.NORM_TITLE
    assert spec["layer"][0]["encoding"]["x"]["title"] == charts.FLOW_LAYER_TITLE


def test_block_and_compare_charts():
    blocks = by_block(table())
    assert charts.block_chart(blocks, "t").to_dict()["layer"][0]["encoding"]["x"][
        "title"] == charts.BLOCK_TITLE
    spec = charts.compare_chart({"one": blocks, "two": blocks}, "weight_grad_norm",
                                "t").to_dict()
    series = {row["series"] for row in next(iter(spec["datasets"].values()))}
    assert series == {"one", "two"}
