"""core.charts.curves: activation curves and slopes."""
import json

import pandas as pd

from core.charts.curves import activation_curves_chart


def test_curves_chart_titles_axes_and_guide():
    curves = pd.DataFrame({"z": [0.0, 1.0], "activation": "tanh", "value": [0, 0.76],
                           "slope": [1, 0.42]})
    value = json.dumps(activation_curves_chart(curves).to_dict(), ensure_ascii=False)
    assert "Activations" in value and "pre-activation z" in value and "0.25" not in value
    slope = json.dumps(activation_curves_chart(curves, "slope", title="T", guide=0.25)
                       .to_dict(), ensure_ascii=False)
    assert "0.25" in slope and "\u03c6\u2032(z)" in slope
