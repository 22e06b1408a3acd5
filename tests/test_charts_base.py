"""Chart builders are pure: DataFrame in, Altair chart out, checked through to_dict()."""
import math

import pandas as pd

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
    assert theory["mark"]["strokeDash"] == [6, 4]


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
