"""core.charts.forensics: the lead-up charts, with the diverged step's nan marked."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from core.charts import forensics as charts


def report(layers=True):
    steps = pd.DataFrame({"step": [1, 2, 3], "global_grad_norm": [1.0, 1e9, math.nan],
                          "lr_times_grad_norm": [0.1, 1e8, math.nan]})
    table = pd.DataFrame({"step": np.repeat([1, 2, 3], 2), "layer": [1, 2] * 3,
                          "weight_grad_norm": [1.0, 2.0, 1e9, 2e9, math.nan, math.inf],
                          "update_ratio": [0.1, 0.2, 1e3, 2e3, math.nan, math.nan]})
    return {"step": 3, "quantity": "activation", "steps": steps, "learning_rate": 0.1,
            "layers": table if layers else None}


def values(chart):
    spec = chart.to_dict()
    data = spec.get("datasets", {})
    return [row for rows in data.values() for row in rows], spec


@pytest.mark.parametrize("column", ["weight_grad_norm", "update_ratio"])
def test_lead_up_per_layer_marks_the_non_finite_step(column):
    rows, spec = values(charts.lead_up_chart(report(), column))
    json.dumps(spec, allow_nan=False)  # JSON-safe: exportable as PNG/SVG
    assert "up to the divergence" in json.dumps(spec["title"])
    at_3 = [row for row in rows if row.get("step") == 3]
    assert {row["status"] for row in at_3} <= {"not a number (nan)", "overflow (inf)"}
    assert len(at_3) == 2
    assert {row["status"] for row in rows if row.get("step") == 2} == {"finite"}


def test_lead_up_per_step_draws_the_step_and_the_gradient():
    rows, spec = values(charts.step_lead_up_chart(report(layers=False)))
    json.dumps(spec, allow_nan=False)
    series = {row["series"] for row in rows}
    assert series == {"‖g‖ (gradient norm, all weights)", "learning rate × ‖g‖ (the step)"}
    assert [row["status"] for row in rows if row["step"] == 3] == ["not a number (nan)"] * 2
    assert "learning rate 0.1" in json.dumps(spec["title"])
