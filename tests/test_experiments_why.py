"""core.experiments.why: Glorot & Bengio's networks, ratios over seeds, and the
sentences the Why page shows."""
import math

import numpy as np
import pandas as pd
import pytest

from core.experiments import why


def test_glorot_bengio_histograms_sum_to_one():
    histograms, profiles, summary = why.glorot_bengio("sigmoid", depth=3, width=32)
    sums = histograms.groupby(["init", "layer"]).fraction.sum()
    np.testing.assert_allclose(sums, 1.0)
    assert summary.equals(why.glorot_bengio_summary(profiles))
    assert len(summary) == 3
    assert list(summary.columns[:4]) == ["initialization", "signal ratio 1 / L",
                                         "weight-gradient ratio 1 / L",
                                         "saturated (mean over layers)"]
    # N(0, 1) weights saturate sigmoid units; Glorot's do not.
    assert summary.iloc[0]["saturated (mean over layers)"] > 0.3
    assert summary.iloc[2]["saturated (mean over layers)"] < 0.05
    first = profiles[profiles.init == "N(0, 1)"]
    assert summary.iloc[0]["signal ratio 1 / L"] == pytest.approx(
        first.signal_grad_norm.iloc[0] / first.signal_grad_norm.iloc[-1], rel=1e-6)


def test_glorot_bengio_note_quotes_the_summary():
    _, profiles, summary = why.glorot_bengio("sigmoid", depth=3, width=32)
    note = why.glorot_bengio_note(summary, "sigmoid", 3)
    assert note.startswith("**The notes vs the measurement.**")
    assert f"layer 3: {summary.iloc[0]['signal ratio 1 / L']:.3g})" in note
    tanh = why.glorot_bengio_note(summary, "tanh", 3)
    assert "zero-centred" in tanh and f"{summary.iloc[2]['signal ratio 1 / L']:.3g}" in tanh


def test_saturation_caption_names_coinciding_lines():
    profiles = pd.DataFrame({"layer": [1, 2] * 3, "init": ["a"] * 2 + ["b"] * 2 + ["c"] * 2,
                             "saturated_fraction": [0.0, 0.0, 0.001, 0.004, 0.5, 0.6]})
    assert why.coinciding(profiles) == ["a and b"]
    caption = why.saturation_caption(profiles)
    assert caption.startswith("Saturated fraction")
    assert caption.endswith(" Here the lines of a and b coincide (within 0.5% at every "
                            "layer): they are told apart by dash and marker.")
    alone = why.saturation_caption(profiles[profiles.init != "b"])
    assert "coincide" not in alone


def test_ratio_over_seeds_is_the_median():
    tables = [pd.DataFrame({"weight_grad_norm": [a, 1.0]}) for a in (2.56, 1.49, 1.04)]
    result = why.ratio_over_seeds(tables)
    assert result["median"] == 1.49 and result["per_seed"] == [2.56, 1.49, 1.04]
    assert result["flat"] and (result["low"], result["high"]) == (1.04, 2.56)
    assert not why.ratio_over_seeds([pd.DataFrame({"weight_grad_norm": [0.1, 1.0]})])["flat"]


def test_variance_propagation_and_its_sentences():
    from core.per_layer import profile
    run = why.variance_propagation("relu", "glorot_uniform", 6, 64)
    assert [one.seed for one in run["seeds"]] == [0, 1, 2]
    table = run["table"]
    assert set(table.init) == {"glorot_uniform"} and "theory_signal" in table
    assert run["summary"]["ratio"] == pytest.approx(
        table.signal_grad_norm.iloc[0] / table.signal_grad_norm.iloc[-1])
    assert run["theory_ratio"] == pytest.approx(
        table.theory_signal.iloc[0] / table.theory_signal.iloc[-1])
    third = profile(run["seeds"][2])
    assert run["weights"]["per_seed"][2] == pytest.approx(
        third.weight_grad_norm.iloc[0] / third.weight_grad_norm.iloc[-1])
    assert why.seeds_help(run).startswith("‖dLoss/dW_1‖ / ‖dLoss/dW_L‖, measured for "
                                          "seeds 0: ")
    text = why.flatness_text(run)
    assert text.startswith("Here the weight gradient **is flat**" if run["weights"]["flat"]
                           else "Here the weight gradient is **not** flat")
    assert f"{math.sqrt(6 / 64):.3g}" in why.noise_caption(run)


def test_slope_curves_are_the_page_activations():
    curves = why.slope_curves()
    assert tuple(dict.fromkeys(curves.activation)) == why.CURVES
    assert list(curves.columns) == ["activation", "z", "value", "slope"]
