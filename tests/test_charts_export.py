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
    from core.charts.base import log_chart, long_format
    table = pd.DataFrame({"layer": [1, 2, 3, 4], "signal": [1e-3, 0.0, math.inf, math.nan],
                          "weight": [1e-2, 1e-1, 1.0, 10.0]})
    return log_chart(long_format(table, "layer", {"signal": "signal ‖dL/dh_l‖",
                                                  "weight": "weight gradient"}),
                     x="layer", x_title="hidden layer l", y_title="L2 norm",
                     title="Export check", subtitle="0, inf and nan pinned")


def test_converter_makes_png_and_svg_from_a_log_chart_with_inf_and_zero():
    from core.charts import export as ui
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
    dict(activation="tanh", residual=True, residual_scale=0.5),
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
    from core.experiments.problem import identity_spec
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
    from core.recurrent_keras import keras_code
    spec = tt.ThroughTimeSpec(steps=4, units=4, batch_size=2, **settings)
    rows = run_printed(keras_code(spec))[1:]
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


# --- Exports that never fail: every chart, at extreme settings, converts --------------

def assert_converts(figures: dict) -> None:
    """Every {name: chart}: a spec of JSON-safe numbers, a PNG and an SVG."""
    from core.charts import export
    assert figures
    for name, figure in figures.items():
        spec = export.export_spec(figure)
        assert export.unsafe_numbers(spec) == [], name
        json.dumps(spec, allow_nan=False)  # strict JSON: no inf, no nan
        assert export.chart_png(figure).startswith(b"\x89PNG\r\n\x1a\n"), name
        assert export.chart_svg(figure).rstrip().endswith("</svg>"), name


def page_charts(at) -> dict:
    """The charts a page registered this run (ui.chart), by key; one per drawn chart."""
    drawn = at.session_state["charts_this_run"]["items"]
    assert len(drawn) == len(at.get("vega_lite_chart")), (list(drawn), "vs the page")
    return {key: figure for key, (filename, figure) in drawn.items()}


def by_label(widgets, label: str):
    return next(widget for widget in widgets if widget.label == label)


def test_spec_number_turns_any_number_into_a_finite_float():
    from core.charts.base import FLOAT_MAX, FLOAT_TINY, spec_number
    assert spec_number(10 ** 39) == 1e39 and type(spec_number(10 ** 39)) is float
    assert spec_number(10 ** 400) == FLOAT_MAX and spec_number(-10 ** 400) == -FLOAT_MAX
    assert spec_number(math.inf) == FLOAT_MAX and spec_number(np.float32(2.5)) == 2.5
    assert spec_number(10 ** -400, FLOAT_TINY) == FLOAT_TINY
    with pytest.raises(ValueError):
        spec_number(math.nan)


@pytest.mark.parametrize("values", [
    [1e-3, 1e30, math.inf],  # the reported bug: the top edge 10**31 as a Python int
    [5e-324, 1.7e308, math.inf, 0.0, math.nan],  # float64's subnormals and its maximum
    [1e-40, 3e38, math.inf, 0.0],  # float32 overflow and underflow
])
def test_log_chart_edges_are_json_safe_floats_and_convert(values):
    from core.charts.base import log_chart, pin_for_log
    table = pd.DataFrame({"layer": range(1, len(values) + 1), "series": "s",
                          "value": values})
    data, domain = pin_for_log(table)
    assert all(type(edge) is float and math.isfinite(edge) and edge > 0 for edge in domain)
    assert data["plotted"].map(math.isfinite).all()
    assert_converts({"chart": log_chart(table, x="layer", x_title="l", y_title="v",
                                        title="edges")})


def test_float32_limits_are_labelled_lines_where_the_axis_reaches_them():
    from core.charts.base import log_chart
    def labels(values):
        table = pd.DataFrame({"layer": range(1, len(values) + 1), "series": "s",
                              "value": values})
        spec = log_chart(table, x="layer", x_title="l", y_title="v", title="t").to_dict()
        return {row["label"] for rows in spec["datasets"].values() for row in rows
                if "label" in row}
    assert labels([1e-3, 1.0, 1e3]) == set()
    assert labels([1e-3, 1e38, math.inf]) == {"float32 max 3.4e38"}
    assert labels([1e-39, 1.0, 0.0]) == {"float32 smallest normal 1.2e-38"}
    assert labels([1e-45, 1e45]) == {"float32 max 3.4e38",
                                     "float32 smallest normal 1.2e-38"}


@pytest.mark.parametrize("query", [{"depth": "150"},
                                   {"depth": "150", "gain": "2", "dtype": "float32"},
                                   {"depth": "150", "gain": "2", "dtype": "float64"}])
def test_every_chart_of_the_problem_page_converts_at_depth_150(app, query):
    at = app("pages/problem.py", query)
    assert_converts(page_charts(at))
    zipped = [b for b in at.get("download_button") if b.proto.label.startswith("Download every")]
    assert len(zipped) == 1 and "(3," in zipped[0].proto.label


def test_why_and_initialization_charts_convert_at_their_deepest(app):
    at = app("pages/why.py", {"depth": "100", "gb_depth": "20", "init": "random_normal",
                              "activation": "relu"})
    assert_converts(page_charts(at))
    at = app("pages/initialization.py", {"depth": "100", "grid_depth": "100",
                                         "sweep_depth": "60"})
    assert_converts(page_charts(at))


def test_through_time_charts_convert_at_t_200_gain_2_and_exploding_clipping(app):
    at = app("pages/through_time.py", {"steps": "200", "gain": "2", "units": "16"})
    by_label(at.slider, "Recurrent gain").set_value(2.5)
    by_label(at.select_slider, "Learning rate (SGD)").set_value(1.0)
    by_label(at.select_slider, "Training steps").set_value(50)
    by_label(at.button, "Train both runs").click().run()
    assert not at.exception
    charts = page_charts(at)
    assert "chart_clipping_norms" in charts and "chart_clipping_losses" in charts
    assert_converts(charts)


def test_remedies_charts_convert_for_the_exploding_baseline_and_every_remedy(app):
    at = app("pages/remedies.py", {"scenario": "exploding", "steps": "100"})
    by_label(at.button, "Train the baseline and each remedy").click().run()
    assert not at.exception
    charts = page_charts(at)
    assert len(charts) > 8, list(charts)
    assert_converts(charts)


def test_training_charts_convert_after_learning_rate_10():
    from core.charts import training as charts
    from core.experiments.activations import activation_experiment
    from core.training import TrainingSpec, train
    model = activation_experiment("relu", 0.01, 0)
    runs = {f"rate {rate:g}": train(model, TrainingSpec(
        learning_rate=rate, steps=30, eval_every=10)) for rate in (0.5, 10.0)}
    table = runs["rate 10"]
    assert not np.isfinite(table["loss"].to_numpy(np.float64)).all() or \
        table["loss"].max() > 1e3  # the run really diverged
    assert_converts({
        "dead": charts.layer_step_heatmap(table, "dead_fraction", title="dead",
                                          legend="dead", domain=[0, 1], scheme="reds"),
        "grad": charts.layer_step_heatmap(table, "weight_grad_norm", title="grad",
                                          legend="log10", log10=True),
        "loss": charts.loss_chart(runs), "accuracy": charts.accuracy_chart(runs),
        "update": charts.update_ratio_chart(table, "update ratio"),
        "clipping": charts.clipping_chart(runs, 10.0),
        "first": charts.first_step_profile(runs, "signal_grad_norm", title="first",
                                           y_title="signal"),
        "weights": charts.weight_norm_chart(runs),
        "mean": charts.activation_mean_chart(table, "mean")})


def test_activations_page_charts_convert_after_training_at_its_highest_rate(app):
    at = app("pages/activations.py", {"learning_rate": "1.0", "steps": "100"})
    by_label(at.button, "Train this network").click().run()
    assert not at.exception
    charts = page_charts(at)
    assert {"dead_heatmap", "runs_loss", "runs_accuracy"} <= set(charts)
    assert_converts(charts)


# --- A failed export is never silent ---------------------------------------------------

def test_a_failing_conversion_raises_export_error_with_the_reason(monkeypatch):
    import vl_convert
    from core.charts import export

    def broken(*args, **kwargs):
        raise ValueError("Failed to parse vl_spec dict as JSON: integer as u128")
    monkeypatch.setattr(vl_convert, "vegalite_to_png", broken)
    with pytest.raises(export.ExportError, match="PNG conversion failed: .*u128"):
        export.chart_png(overflowing_chart())
    with pytest.raises(export.ExportError, match="chart forward: PNG conversion failed"):
        export.charts_zip({"forward": overflowing_chart()})
    with pytest.raises(export.ExportError, match="number.*no converter can read"):
        export.chart_svg({"mark": "point", "width": 10 ** 24})


def test_charts_zip_holds_a_png_and_an_svg_of_every_chart():
    import zipfile
    from core.charts import export
    data = export.charts_zip([("a/b", overflowing_chart()), ("a/b", overflowing_chart())])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == ["a_b.png", "a_b.svg", "a_b_2.png",
                                              "a_b_2.svg"]
        assert archive.read("a_b.png").startswith(b"\x89PNG")
        assert b"Export check" in archive.read("a_b_2.svg")


FAILING_APP = '''
import altair as alt
import pandas as pd
import streamlit as st
from core.charts import export
from pages import ui

def broken(figure):
    raise export.ExportError("PNG conversion failed: the test broke it")
figure = alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_point().encode(x="x:Q")
ui.chart(figure, key="broken", filename="broken")
st.button("rerun")
if st.session_state.get("call_it"):
    # What Streamlit does on a click: call the button's data callable outside the script.
    try:
        ui._deferred(broken, figure, "broken", "PNG")()
    except export.ExportError:
        st.session_state.call_it = False
'''


def test_a_failed_export_shows_its_reason_on_the_page(tmp_path):
    """The callable keeps the reason; the next run shows it under the chart, as text."""
    from streamlit.testing.v1 import AppTest
    script = tmp_path / "failing_export_app.py"
    script.write_text(FAILING_APP)
    at = AppTest.from_file(str(script), default_timeout=60)
    at.session_state["call_it"] = True
    at.run()
    assert not at.exception and not at.error  # nothing yet: the click was just now
    at.button[0].click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "`Saving PNG failed: PNG conversion failed: the test broke it`"]
    at.run()
    assert not at.error  # shown once
