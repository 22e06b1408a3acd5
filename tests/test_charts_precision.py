"""core/charts/precision.py: the zero-gradient and loss-scale charts, JSON-safe and
exportable."""
import json

import pandas as pd

from core.charts import precision
from core.charts.export import chart_png, export_spec, unsafe_numbers


def zeros_table():
    rows = []
    for run, values in {"float32": [0.16, 0, 0], "mixed_float16": [1.0, 1.0, 0.2],
                        "mixed_float16 + LossScaleOptimizer": [0.2, 0.0, 0.0]}.items():
        for layer, value in enumerate(values, start=1):
            rows.append({"run": run, "layer": layer, "zero_grad_fraction": value,
                         "zero_grad_fraction_step_1": value})
    return pd.DataFrame(rows)


def scales_table():
    return pd.DataFrame({"run": ["plain"] * 2 + ["scaled"] * 4, "step": [1, 2, 1, 2, 3, 4],
                         "loss_scale": [1.0, 1.0, 2.0 ** 15, 2.0 ** 14, 2.0 ** 14, 2.0 ** 15],
                         "overflowed": [False, False, True, False, False, False]})


def test_zero_gradient_chart_draws_a_line_per_run_on_a_0_to_100_percent_axis():
    spec = precision.zero_gradient_chart(zeros_table(), 200).to_dict()
    assert spec["encoding"]["y"]["scale"]["domain"] == [0, 1]
    assert spec["encoding"]["color"]["scale"]["domain"] == [
        "float32", "mixed_float16", "mixed_float16 + LossScaleOptimizer"]
    assert "mean of 200 steps" in " ".join(spec["title"]["subtitle"])
    assert not unsafe_numbers(export_spec(precision.zero_gradient_chart(zeros_table(), 200)))


def test_loss_scale_chart_shows_only_scaled_runs_and_marks_skipped_steps():
    chart = precision.loss_scale_chart(scales_table())
    spec = chart.to_dict()
    rows = [row for rows in spec["datasets"].values() for row in rows]
    assert {row["run"] for row in rows} == {"scaled"}
    assert all(isinstance(row["loss_scale"], float) for row in rows)
    y = spec["layer"][0]["encoding"]["y"]
    assert y["scale"]["type"] == "log" and y["scale"]["base"] == 2
    assert y["scale"]["domain"] == [2.0 ** 12, 2.0 ** 17]
    assert spec["layer"][1]["mark"]["shape"] == "triangle-down"
    json.dumps(export_spec(chart), allow_nan=False)
    assert not unsafe_numbers(export_spec(chart))
    assert chart_png(chart)[:4] == b"\x89PNG"
    assert chart_png(precision.zero_gradient_chart(zeros_table(), 3))[:4] == b"\x89PNG"


def test_the_loss_scale_axis_is_labelled_in_powers_of_two():
    spec = precision.loss_scale_chart(scales_table()).to_dict()
    assert "'2^'" in spec["layer"][0]["encoding"]["y"]["axis"]["labelExpr"]
    from core.experiments.loss_scaling import scale_text
    assert scale_text(32768.0) == "32,768 (2^15)" and scale_text(3.0) == "3"
