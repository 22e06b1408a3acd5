"""Chart builders are pure: DataFrame in, Altair chart out, checked through to_dict()."""
import json
import math

import altair as alt
import numpy as np
import pandas as pd

from core.charts import base
from core.charts.base import PALETTE, colors, integer_axis, log_chart, long_format, pin_for_log


def test_log_chart_pins_zero_inf_and_nan_with_labels():
    data = pd.DataFrame({"layer": [1, 2, 3, 4, 5], "series": "signal",
                         "value": [0.0, 1e-3, 1.0, math.inf, math.nan], "kind": "measured"})
    pinned, domain = pin_for_log(data)
    assert list(pinned["status"]) == ["underflow (0)", "finite", "finite", "overflow (inf)",
                                      "not a number (nan)"]
    assert pinned["plotted"].iloc[0] == domain[0] and pinned["plotted"].iloc[3] == domain[1]
    assert list(pinned["exact"]) == ["0", "0.001", "1", "inf", "nan"]
    spec = log_chart(data, x="layer", x_title="hidden layer", y_title="norm",
                     title="Signal", dash="kind").to_dict()
    assert spec["title"]["text"] == "Signal"
    line, points, theory = spec["layer"]
    assert line["encoding"]["y"]["scale"]["type"] == "log"
    assert line["encoding"]["x"]["title"] == "hidden layer"
    assert points["encoding"]["shape"]["field"] == "status"
    assert points["encoding"]["shape"]["scale"]["domain"] == [
        "finite", "overflow (inf)", "not a number (nan)", "underflow (0)"]
    assert {t["field"] for t in points["encoding"]["tooltip"]} >= {"exact", "status"}
    assert theory["encoding"]["strokeDash"]["field"] == "kind"


def test_log_chart_with_no_finite_value_still_draws():
    data = pd.DataFrame({"layer": [1, 2], "series": "s", "value": [math.inf, 0.0]})
    spec = log_chart(data, x="layer", x_title="l", y_title="v", title="t").to_dict()
    assert len(spec["layer"]) == 2
    pinned, domain = pin_for_log(data)
    assert domain[0] < domain[1]


def test_long_format_colors_and_integer_axis():
    table = pd.DataFrame({"layer": [1, 2], "dead_fraction": [0.0, 0.5],
                          "saturated_fraction": [0.1, 0.2]})
    long = long_format(table, "layer", {"dead_fraction": "dead", "saturated_fraction": "sat"})
    assert len(long) == 4 and set(long["series"]) == {"dead", "sat"}
    assert colors(2) == PALETTE[:2] and len(colors(20)) == 20
    assert colors(len(PALETTE) + 1)[-1] == PALETTE[0]  # cycles
    axis = integer_axis("layer").to_dict()
    assert axis == {"format": "d", "tickMinStep": 1, "title": "layer"}


def test_subtitles_wrap_instead_of_being_cut():
    from core.charts.base import SUBTITLE_WIDTH, heading
    long_text = "word " * 60
    lines = heading("T", long_text).to_dict()["subtitle"]
    assert len(lines) > 2 and all(len(line) <= SUBTITLE_WIDTH for line in lines)
    assert " ".join(lines).split() == long_text.split()  # nothing lost
    assert heading("T").to_dict()["subtitle"] == []


def test_measured_and_theory_share_a_colour_and_differ_in_dash():
    rows = pd.DataFrame({"layer": [1, 2, 1, 2], "value": [1.0, 2.0, 1.1, 2.1],
                         "series": ["He: measured"] * 2 + ["He: theory"] * 2,
                         "group": ["He"] * 4, "kind": ["measured"] * 2 + ["theory"] * 2})
    spec = log_chart(rows, x="layer", x_title="l", y_title="v", title="t",
                     dash="kind").to_dict()
    lines = [layer for layer in spec["layer"] if layer["mark"]["type"] == "line"]
    assert len(lines) == 2
    assert {line["encoding"]["color"]["field"] for line in lines} == {"group"}
    dash = lines[0]["encoding"]["strokeDash"]["scale"]
    assert dash["domain"] == ["measured", "theory"] and dash["range"] == [[1, 0], [6, 4]]


def test_clicking_a_legend_entry_highlights_its_series():
    rows = pd.DataFrame({"layer": [1, 2] * 2, "value": [1.0, 2.0, 3.0, 4.0],
                         "series": ["a", "a", "b", "b"]})
    spec = log_chart(rows, x="layer", x_title="l", y_title="v", title="t").to_dict()
    params = spec.get("params", []) + [p for layer in spec["layer"]
                                       for p in layer.get("params", [])]
    assert params and params[0]["bind"] == "legend"
    assert params[0]["select"]["fields"] == ["series"]
    assert spec["layer"][0]["encoding"]["opacity"]["condition"]["param"] == params[0]["name"]


def test_twelve_distinct_colours():
    assert len(set(PALETTE)) == len(PALETTE) >= 12


def test_log_chart_spec_is_what_alt_layerchart_makes_of_its_layers():
    """base.Layered skips alt.LayerChart's processing of the layers; that is only right
    while the processing would change nothing. With float32 lines and theory rows."""
    import re
    long = pd.DataFrame({"layer": [1, 2, 3, 1, 2, 3], "series": ["a"] * 3 + ["a theory"] * 3,
                         "group": ["a"] * 6, "kind": ["measured"] * 3 + ["theory"] * 3,
                         "value": [1e-39, 1.0, np.inf, 1e-30, 1.0, 1e39]})
    chart = base.log_chart(long, x="layer", x_title="l", y_title="y", title="t",
                           dash="kind")
    assert isinstance(chart, base.Layered)
    plain = alt.LayerChart(**chart._kwds)
    names = lambda spec: re.sub(r"view_[\w]+", "VIEW", json.dumps(spec, sort_keys=True))  # noqa: E731
    assert names(chart.to_dict()) == names(plain.to_dict())
    assert len(chart.to_dict()["layer"]) == 5  # lines, points, theory, two float32 marks


def test_format_lines_label_each_formats_limits_and_merge_float32_with_bfloat16():
    from core.charts.base import format_lines
    from core.summary import FORMATS, float_limits
    lines = format_lines(FORMATS)
    labels = [label for _, label, _ in lines]
    assert "float16 max 65504" in labels and "float16 smallest subnormal 6e-8" in labels
    assert "float16 smallest normal 6.1e-5" in labels and "float64 max 1.8e308" in labels
    assert "bfloat16, float32 max 3.39e38 / 3.4e38" in labels  # within 1%: one line
    assert "bfloat16, float32 smallest normal 1.2e-38" in labels
    values = [value for value, _, _ in lines]
    assert values == sorted(values) and all(type(value) is float for value in values)
    assert float_limits("float16")["max"] in values
    assert [label for _, label, _ in format_lines()] == ["float32 smallest normal 1.2e-38",
                                                        "float32 max 3.4e38"]


def test_a_log_chart_draws_the_float16_limits_its_axis_reaches_and_stays_json_safe():
    import json
    from core.charts.base import log_chart
    from core.charts.export import chart_png
    from core.summary import FORMATS
    table = pd.DataFrame({"layer": [1, 2, 3, 4], "series": "s",
                          "value": [1e-9, 1.0, 1e5, float("inf")]})
    chart = log_chart(table, x="layer", x_title="l", y_title="v", title="t", formats=FORMATS)
    spec = chart.to_dict()
    labels = {row["label"] for rows in spec["datasets"].values() for row in rows
              if "label" in row}
    assert labels == {"float16 max 65504", "float16 smallest normal 6.1e-5",
                      "float16 smallest subnormal 6e-8"}
    json.dumps(spec, allow_nan=False)
    assert chart_png(chart)[:4] == b"\x89PNG"


def test_remembered_charts_come_back_for_equal_contents_and_only_then():
    from core.charts import profiles
    table = pd.DataFrame({"layer": [1, 2, 3], "measured_gain": [1.0, float("nan"), 0.5],
                          "init": ["he_normal"] * 3, "theory_gain": [1.0, 1.0, 1.0]})
    first = profiles.gain_chart(table)
    assert profiles.gain_chart(table.copy()) is first  # a fresh copy of the same numbers
    changed = table.copy()
    changed.loc[2, "measured_gain"] = 0.25
    assert profiles.gain_chart(changed) is not first
    assert profiles.gain_chart(changed).to_dict() == profiles.gain_chart.unremembered(
        changed).to_dict()
    renamed = table.copy()
    renamed["init"] = "glorot_normal"
    assert profiles.gain_chart(renamed) is not first
    old = base.REMEMBER["entries"]
    base.REMEMBER["entries"] = 0
    try:
        assert profiles.gain_chart(table) is not profiles.gain_chart(table)
    finally:
        base.REMEMBER["entries"] = old


def test_content_keys_tell_apart_what_a_chart_would_draw_differently():
    key = base.content_key
    frame = pd.DataFrame({"a": [1.0, float("nan")], "b": ["x", "y"]})
    assert key(frame) == key(frame.copy())
    assert key(frame) != key(frame[["b", "a"]])  # column order
    assert key(frame) != key(frame.set_axis([5, 6]))  # the index
    with_attrs = frame.copy()
    with_attrs.attrs["note"] = "theory"
    assert key(frame) != key(with_attrs)
    assert key(frame) != key(frame.astype({"a": "float32"}))
    assert key(True) != key(1) and key(1) != key(1.0)
    assert key(float("nan")) == key(float("nan"))
    assert key({"a": (1, 2)}) == key({"a": (1, 2)}) != key({"a": [1, 2]})
    assert key(np.arange(3)) != key(np.arange(3.0))
    try:
        key(object())
    except TypeError:
        pass
    else:
        raise AssertionError("an object has no content key")


def test_a_chart_function_given_an_object_is_called_plainly():
    calls = []

    @base.remembered
    def chart(thing):
        calls.append(thing)
        return alt.Chart(pd.DataFrame({"x": [1]})).mark_point()
    thing = object()
    assert chart(thing) is not chart(thing) and len(calls) == 2
    assert chart("same") is chart("same") and len(calls) == 3


def test_building_a_log_chart_runs_no_schema_validation(monkeypatch):
    """Unnamed, Altair's selection_point validates its own to_dict() to hash a name at
    every call; the legend's pick is named with that same hash, computed once. (As on
    the server, pages.server.tune: no validation in constructors, altair's debug mode.)"""
    from altair.utils import schemapi
    monkeypatch.setattr(schemapi, "DEBUG_MODE", False)
    rows = pd.DataFrame({"layer": [1, 2] * 2, "value": [1.0, 2.0, 3.0, 4.0],
                         "group": ["a", "a", "b", "b"]})
    plain = alt.selection_point(fields=["group"], bind="legend").name
    base.log_chart(rows, x="layer", x_title="l", y_title="v", title="t")  # the name, once

    def refuse(*args, **kwargs):
        raise AssertionError("a chart was validated while it was built")
    monkeypatch.setattr(alt.SchemaBase, "validate", refuse)
    spec = base.log_chart(rows.assign(value=rows["value"] * 2), x="layer", x_title="l",
                          y_title="v", title="t2").to_dict(validate=False)
    params = spec.get("params", []) + [p for layer in spec["layer"]
                                       for p in layer.get("params", [])]
    assert [p["name"] for p in params] == [plain]
