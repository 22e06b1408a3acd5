"""core.charts.profiles: per-layer profiles of one or several networks."""
import json

import numpy as np
import pandas as pd

from core.charts import profiles as charts
from core.charts.base import LAYER_TITLE


def fake_profiles(inits=("he_normal", "glorot_normal"), depth=4):
    frames = []
    for k, init in enumerate(inits):
        layer = np.arange(1, depth + 1)
        signal = 2.0 ** (layer - k)
        frames.append(pd.DataFrame({
            "init": init, "layer": layer, "activation_std": 1.0 / layer,
            "theory_activation_std": 1.0 / layer, "saturated_fraction": 0.1 * k,
            "signal_grad_norm": signal, "theory_signal": signal * 1.1,
            "weight_grad_norm": np.ones(depth), "activation_norm": 1.0 * layer,
            "measured_gain": np.concatenate([[np.nan], signal[:-1] / signal[1:]]),
            "theory_gain": np.concatenate([[np.nan], np.full(depth - 1, 0.5)])}))
    return pd.concat(frames, ignore_index=True)


def test_layer_axes_have_integer_ticks():
    profiles = fake_profiles()
    saturated = charts.by_init_chart(profiles, "saturated_fraction", "t", "y",
                                     fraction=True).to_dict()
    assert saturated["encoding"]["x"]["axis"]["format"] == "d"
    assert saturated["encoding"]["x"]["axis"]["tickMinStep"] == 1
    assert saturated["encoding"]["x"]["axis"]["title"] == LAYER_TITLE
    assert saturated["encoding"]["strokeDash"]["field"] == "init"
    gain = json.dumps(charts.gain_chart(profiles).to_dict())
    assert '"format": "d"' in gain


def test_measured_and_theory_rows():
    long = charts.measured_and_theory(fake_profiles(), "signal_grad_norm", "theory_signal",
                                      "measured")
    assert list(dict.fromkeys(long.series)) == [
        "he_normal: measured", "he_normal: theory", "glorot_normal: measured",
        "glorot_normal: theory"]
    no_theory = charts.measured_and_theory(fake_profiles(), "signal_grad_norm", None, "s")
    assert set(no_theory.kind) == {"measured"}


def test_histogram_chart_one_line_per_layer():
    histograms = pd.DataFrame({"layer": [1, 1, 2, 2], "bin_start": [0, 0.5] * 2,
                               "bin_end": [0.5, 1.0] * 2, "bin_center": [0.25, 0.75] * 2,
                               "fraction": [0.4, 0.6, 0.5, 0.5]})
    spec = charts.histogram_chart(histograms, "sigmoid, N(0, 1)").to_dict()
    assert spec["title"]["text"] == "sigmoid, N(0, 1)"
    assert spec["encoding"]["detail"]["field"] == "layer"


def titles(chart):
    spec = chart.to_dict()
    return spec["title"]["text"], spec["layer"][0]["encoding"]["x"]["title"]


def test_page_charts_are_titled_log_charts_against_the_layer():
    profiles = fake_profiles()
    one = profiles[profiles.init == "he_normal"]
    data = {"forward": pd.DataFrame({"layer": [1, 2], "series": "s", "value": [1.0, 2.0],
                                     "kind": ["measured", "theory"]})}
    data["backward"] = data["forward"]
    forward, backward = charts.identity_charts(data)
    assert titles(forward) == ("Forward signal", LAYER_TITLE)
    assert titles(backward) == ("Back-propagated signal", LAYER_TITLE)
    assert titles(charts.gradients_chart(one, "G")) == ("G", LAYER_TITLE)
    assert titles(charts.signal_by_init_chart(profiles))[0] == \
        "Back-propagated signal per layer"
    assert titles(charts.forward_std_chart(profiles))[0] == \
        "Forward: activation std per layer"
    assert titles(charts.backward_signal_chart(profiles))[0] == "Backward: signal per layer"
    variance = json.dumps(charts.variance_chart(one, "V").to_dict(), ensure_ascii=False)
    # one network: its series are named without the init, the weight gradient beside
    assert '"signal ‖dL/dh_l‖"' in variance and '"theory"' in variance
    assert "weight gradient ‖dL/dW_l‖" in variance and "he_normal:" not in variance
