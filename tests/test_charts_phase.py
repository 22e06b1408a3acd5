"""core.charts.phase: the phase-diagram heatmap with theory lines, and a point's charts."""
import json
import math

import numpy as np
import pandas as pd

from core.charts import phase as charts
from core.experiments import phase


def fake_grid():
    rows = []
    for sigma_b2 in (0.0, 0.1, 0.5):
        for sigma_w2, ratio in ((0.5, 1e-4), (1.0, 1.0), (2.0, math.inf)):
            rows.append(dict(activation="tanh", sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                             measured_ratio=ratio, measured_log10_ratio=math.log10(ratio),
                             theory_log10_ratio=0.0, chi1=1.0, q_star=0.1,
                             depth_scale=math.inf, critical_sigma_w2=1.0))
    return pd.DataFrame(rows)


def test_cells_tile_the_plane_on_a_square_root_axis():
    data = charts.cells(fake_grid(), clip=8.0)
    w = data.drop_duplicates("sigma_w2").sort_values("sigma_w2")
    np.testing.assert_allclose(w.sigma_w2_start, [0.25, 0.75, 1.5])
    np.testing.assert_allclose(w.sigma_w2_end, [0.75, 1.5, 2.5])
    b = data.drop_duplicates("sigma_b2").sort_values("sigma_b2")
    assert b.sigma_b2_start.iloc[0] == 0.0  # never below 0
    np.testing.assert_allclose(b.sigma_b2_end.iloc[:-1].to_numpy(),
                               b.sigma_b2_start.iloc[1:].to_numpy())  # no gaps
    # the edge between 0.1 and 0.5 is the midpoint of their square roots, squared
    assert b.sigma_b2_end.iloc[1] == (math.sqrt(0.1) / 2 + math.sqrt(0.5) / 2) ** 2
    assert set(data.status) == {"finite", "ratio inf (overflow)"}
    assert data.colour.isna().sum() == 3 and (data.label == "0/inf").sum() == 3


def test_phase_chart_draws_cells_theory_lines_and_the_chosen_point():
    lines = phase.theory_lines("tanh", 0.5)
    spec = charts.phase_chart(fake_grid(), lines, chosen=(1.0, 0.1)).to_dict()
    text = json.dumps(spec)
    assert spec["title"]["text"].startswith("Phase diagram of tanh")
    assert "theory: critical line" in text and "depth scale" in text
    assert "#6b6b6b" in text  # the inf cells are grey, not dropped
    assert "tooltip" in text and "(theory)" in text and "sqrt" in text
    assert len(spec["layer"]) == 3 + 2 + 1  # cells, grey cells, labels; lines, labels; pick
    datasets = list(spec["datasets"].values())
    chosen = [rows for rows in datasets if len(rows) == 1]
    assert chosen and chosen[0][0]["sigma_w2"] == 1.0 and chosen[0][0]["sigma_b2"] == 0.1
    # the contour labels stay inside the plot
    labels = [rows for rows in datasets if rows and "text" in rows[0]]
    assert labels and all(row["sigma_b2"] <= 0.5 * 1.0001 for row in labels[0])
    no_pick = charts.phase_chart(fake_grid(), lines).to_dict()
    assert len(no_pick["layer"]) == 5


def test_point_charts_show_measured_and_theory():
    table = pd.DataFrame({"layer": [1, 2, 3], "activation_std": [1.0, 0.8, 0.7],
                          "theory_activation_std": [1.0, 0.9, 0.8],
                          "signal_grad_norm": [0.1, 0.2, 0.4],
                          "theory_signal": [0.1, 0.2, 0.4]})
    forward, backward = charts.point_charts(table, "σ_w² = 2, σ_b² = 0.05")
    for chart in (forward, backward):
        text = json.dumps(chart.to_dict(), ensure_ascii=False)
        assert "theory" in text and "σ_w² = 2, σ_b² = 0.05" in text


def test_spectrum_and_variance_charts():
    result = phase.isometry("linear", depths=(2, 4), width=16)
    spec = charts.spectrum_chart(result["histogram"], "Gaussian", "linear").to_dict()
    text = json.dumps(spec, ensure_ascii=False)
    assert spec["title"]["text"] == "Gaussian weights: singular values of J (linear)"
    assert "s = 1: isometry" in text and '"type": "log"' in text and "L = 4" in text
    assert "tooltip" in text
    spec = charts.lambda_variance_chart(result["moments"], "linear").to_dict()
    text = json.dumps(spec, ensure_ascii=False)
    assert "theory" in text and "Var λ" in text and "Pennington" in text


def test_born_dead_chart():
    import pandas as pd
    table = pd.DataFrame({"width": [1, 2], "depth": [50, 50], "seeds": [100, 100],
                          "dead_count": [100, 99], "measured_fraction": [1.0, 0.99],
                          "standard_error": [0.0, 0.01], "theory_fraction": [1.0, 0.999]})
    spec = charts.born_dead_chart(table).to_dict()
    text = json.dumps(spec, ensure_ascii=False)
    assert spec["title"]["text"] == "Born dead: ReLU networks of depth 50 dead before training"
    assert "theory 1 − (1 − 2⁻ⁿ)ᴸ" in text and "tooltip" in text and '"format": "%"' in text
