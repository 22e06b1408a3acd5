"""Export and reuse: PNG/SVG chart files, CSV downloads and runnable Keras code."""
import contextlib
import io
import json
import math

import numpy as np
import pandas as pd
import pytest

PAGES = {
    "pages/problem.py": ("chart_forward", "chart_backward", "chart_random"),
    "pages/why.py": ("chart_curves", "chart_gb_signal", "chart_variance"),
    "pages/initialization.py": ("chart_forward", "chart_gain", "chart_grid", "chart_sweep"),
    "pages/through_time.py": ("chart_through_time", "chart_cells", "chart_forget_bias"),
}


def overflowing_chart():
    from core.charts import log_chart, long_format
    table = pd.DataFrame({"layer": [1, 2, 3, 4], "signal": [1e-3, 0.0, math.inf, math.nan],
                          "weight": [1e-2, 1e-1, 1.0, 10.0]})
    return log_chart(long_format(table, "layer", {"signal": "signal ‖dL/dh_l‖",
                                                  "weight": "weight gradient"}),
                     x="layer", x_title="hidden layer l", y_title="L2 norm",
                     title="Export check", subtitle="0, inf and nan pinned")


def test_converter_makes_png_and_svg_from_a_log_chart_with_inf_and_zero():
    from pages import ui
    chart = overflowing_chart()
    spec = ui.export_spec(chart)
    assert "container" not in json.dumps(spec) and spec["width"] == ui.EXPORT_WIDTH
    png = ui.chart_png(chart)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width > 2 * ui.EXPORT_WIDTH and height > 400  # drawn at scale 2
    svg = ui.chart_svg(chart)
    assert svg.lstrip().startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "Export check" in svg and "overflow (inf)" in svg and "underflow (0)" in svg


def run_printed(code: str) -> list[list[str]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<generated>", "exec"), {})
    return [line.split() for line in out.getvalue().splitlines()]


@pytest.mark.parametrize("settings", [
    dict(activation="tanh", init="glorot_normal"),
    dict(activation="leaky_relu", init="he_avg_normal", batch_norm=True, residual=True),
    dict(activation="sigmoid", init="random_uniform", limit=0.1),
])
def test_mlp_keras_code_runs_and_prints_a_norm_per_layer(settings):
    from core.keras_model import keras_code
    from core.spec import ModelSpec
    spec = ModelSpec(depth=3, width=8, batch_size=4, **settings)
    rows = run_printed(keras_code(spec))
    assert [int(row[0]) for row in rows] == [1, 2, 3]
    assert all(math.isfinite(float(row[1])) and float(row[1]) > 0 for row in rows)


def test_identity_network_code_prints_gain_powers():
    from core.keras_model import keras_code
    from core.multiplication import identity_spec
    rows = run_printed(keras_code(identity_spec(depth=3, gain=1.5)))
    signal = [float(row[1]) for row in rows]
    np.testing.assert_allclose([signal[0] / signal[2], signal[1] / signal[2]],
                               [1.5 ** 2, 1.5], rtol=1e-5)  # theory: a^(L-l)


@pytest.mark.parametrize("settings", [
    dict(cell="simple", gain=1.3),
    dict(cell="lstm", forget_bias=3.0, recurrent_init="random_normal"),
    dict(cell="gru", activation="relu", recurrent_init="identity", gain=0.5),
])
def test_recurrent_keras_code_prints_the_pages_numbers(settings):
    from core import through_time as tt
    spec = tt.ThroughTimeSpec(steps=4, units=4, batch_size=2, **settings)
    rows = run_printed(tt.keras_code(spec))[1:]
    assert [int(row[0]) for row in rows] == [1, 2, 3, 4]
    printed = np.array([float(row[1]) for row in rows])
    expected = tt.through_time(spec)["signal_grad_norm"].to_numpy()
    np.testing.assert_allclose(printed, expected, rtol=1e-4)


@pytest.mark.parametrize("page", list(PAGES))
def test_pages_offer_png_svg_csv_and_keras_code(app, page):
    at = app(page, {"steps": "10", "units": "8"} if "through_time" in page else None)
    keys = {button.proto.id for button in at.get("download_button")}
    for chart in PAGES[page]:
        for kind in ("png", "svg"):
            assert any(key.endswith(f"{chart}_{kind}") for key in keys), (chart, kind, keys)
    assert sum(button.proto.label == "PNG" for button in at.get("download_button")) == \
        len(at.get("vega_lite_chart"))
    assert any("CSV" in button.proto.label for button in at.get("download_button"))
    code = [e for e in at.expander if e.label.startswith("Show the Keras code")]
    assert code and all("import keras" in e.code[0].value for e in code)
