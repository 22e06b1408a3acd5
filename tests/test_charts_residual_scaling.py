"""core/charts/residual_scaling.py: measured and theory per beta, one colour per beta."""
import numpy as np
import pandas as pd

from core.charts import residual_scaling as charts


def profiles() -> pd.DataFrame:
    layers = np.arange(1, 5)
    frames = [pd.DataFrame({"preset": preset, "beta": beta, "label": f"β = {preset}",
                            "layer": layers, "forward_gain": (1 + beta ** 2) ** (layers / 2),
                            "backward_gain": (1 + beta ** 2) ** ((4 - layers) / 2),
                            "theory_forward_gain": (1 + beta ** 2) ** ((layers - 1) / 2),
                            "theory_backward_gain": (1 + beta ** 2) ** ((4 - layers) / 2)})
              for preset, beta in (("1", 1.0), ("0", 0.0))]
    return pd.concat(frames, ignore_index=True)


def test_long_rows_pair_each_beta_with_its_theory():
    long = charts.signal_long(profiles(), "forward")
    assert set(long["series"]) == {"β = 1: measured", "β = 1: theory", "β = 0: measured",
                                   "β = 0: theory"}
    assert set(long["group"]) == {"β = 1", "β = 0"}
    assert set(long.loc[long["series"].str.endswith("theory"), "kind"]) == {"theory"}


def test_charts_have_titles_theory_dashes_a_unit_rule_and_log_axes():
    for direction in ("forward", "backward"):
        spec = charts.signal_chart(profiles(), direction, "linear branch").to_dict()
        text = str(spec["title"])
        assert direction.capitalize() in text and "theory" in text and "linear branch" in text
        layers = spec["layer"]
        assert layers[0]["encoding"]["y"]["scale"]["type"] == "log"
        assert any("strokeDash" in layer.get("encoding", {}) for layer in layers)
        assert layers[-1]["mark"]["type"] == "rule"  # y = 1: no growth
        assert layers[0]["encoding"]["color"]["field"] == "group"
