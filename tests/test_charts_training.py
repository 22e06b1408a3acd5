"""core.charts.training: nan and inf stay visible, shared colour scales, capped loss."""
import json

import numpy as np
import pandas as pd
import pytest

from core.charts import training as charts


def test_chart_builders_keep_nan_visible_and_draw_the_guide_line():
    table = pd.DataFrame({"step": np.repeat([1, 2, 3], 2), "layer": np.tile([1, 2], 3),
                          "loss": np.repeat([2.0, 1.0, np.nan], 2),
                          "test_accuracy": np.repeat([0.1, np.nan, 0.5], 2),
                          "update_ratio": [1e-2, 1e-4, 1e-3, 0.0, np.inf, np.nan],
                          "weight_grad_norm": [1.0, 1e-8, 0.0, np.inf, np.nan, 1.0],
                          "weight_norm": [1.0, 1.0, 1.0, 1.0, np.nan, 1.0],
                          "dead_fraction": [0.0, 0.5, 0.25, 1.0, 0.0, 0.0]})
    heat = charts.layer_step_heatmap(table, "weight_grad_norm", title="t", legend="l",
                                     log10=True).to_dict()
    rows = next(iter(heat["datasets"].values()))
    assert sorted(r["status"] for r in rows).count("finite") == 3
    assert {"zero", "overflow (inf)", "not a number (nan)"} <= {r["status"] for r in rows}
    ratio = charts.update_ratio_chart(table, "u").to_dict()
    guide = [d for d in ratio["datasets"].values() if len(d) == 1 and "label" in d[0]]
    assert guide and guide[0][0]["plotted"] == 1e-3
    loss = next(iter(charts.loss_chart({"run": table}).to_dict()["datasets"].values()))
    assert [r["status"] for r in loss] == ["finite", "finite", "not a number (nan)"]
    norms = next(iter(charts.weight_norm_chart({"run": table}).to_dict()["datasets"].values()))
    assert norms[-1]["exact"] == "nan"  # not silently 0
    binned = charts.bin_steps(pd.concat([table.assign(step=table["step"] + 3 * k)
                                         for k in range(100)]), ["dead_fraction"],
                              max_steps=30)
    assert binned["bin"].nunique() <= 30


def _toy_run(losses, grads, steps=4, depth=2):
    return pd.DataFrame({"step": np.repeat(np.arange(1, steps + 1), depth),
                         "layer": np.tile(np.arange(1, depth + 1), steps),
                         "loss": np.repeat(losses, depth),
                         "test_accuracy": np.repeat([0.1] * steps, depth),
                         "update_ratio": np.full(steps * depth, 1e-3),
                         "weight_grad_norm": grads})


def test_paired_heatmaps_share_one_colour_domain_from_finite_cells():
    small = _toy_run([2.0] * 4, [1e-8, 1e-6, 1e-5, 1e-4, 0.0, 1e-3, np.nan, 1e-2])
    large = _toy_run([2.0] * 4, [1.0, 10.0, np.inf, 1e30, 1e2, 1e3, 1e4, 1e5])
    domain = charts.shared_domain([small, large], "weight_grad_norm", log10=True)
    assert domain == pytest.approx([-8.0, 30.0])
    for table, black in ((small, 2), (large, 1)):
        spec = charts.layer_step_heatmap(table, "weight_grad_norm", title="t", legend="l",
                                         log10=True, domain=domain).to_dict()
        scales = [layer["encoding"]["color"]["scale"] for layer in spec["layer"]
                  if "color" in layer["encoding"] and "field" in layer["encoding"]["color"]]
        assert scales and all(s["domain"] == pytest.approx([-8.0, 30.0]) for s in scales)
        rows = next(iter(spec["datasets"].values()))
        assert sum(r["status"] != "finite" for r in rows) == black  # 0, nan, inf: black


def test_a_diverged_loss_is_capped_and_marked_not_stretching_the_axis():
    healthy = _toy_run([2.3, 1.5, 1.0, 0.5], np.ones(8))
    diverged = _toy_run([2.4, 50.0, 1e14, 1e35], np.ones(8))
    cap = charts.loss_cap({"a": healthy, "b": diverged})
    assert cap == 1e4  # 1e3 x the largest initial loss (2.4), up to a power of ten
    spec = charts.loss_chart({"a": healthy, "b": diverged}).to_dict()
    rows = next(iter(spec["datasets"].values()))
    above = [r for r in rows if r["status"] == charts.ABOVE]
    assert [r["exact"] for r in above] == ["1e+14", "1e+35"]
    assert all(r["plotted"] == cap for r in above)
    y_scales = [layer["encoding"]["y"]["scale"] for layer in spec["layer"]]
    assert all(scale["domain"][1] == cap for scale in y_scales)
    assert "▲" in " ".join(spec["title"]["subtitle"])
    # Nothing above the cap: no marker, no note.
    plain = charts.loss_chart({"a": healthy}).to_dict()
    assert not any(r["status"] == charts.ABOVE for r in next(iter(
        plain["datasets"].values())))


def test_step_and_layer_axes_have_integer_ticks_and_legends_have_room():
    run = _toy_run([2.0, np.nan, 1.0, 1.0], [1.0] * 8)
    run["update_ratio"] = [1e-3, 0.0, np.nan, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3]
    ratio = charts.update_ratio_chart(run, "u").to_dict()
    x_axes = [layer["encoding"]["x"]["axis"] for layer in ratio["layer"]
              if "axis" in layer["encoding"].get("x", {})]
    assert x_axes and all(a["format"] == "d" and a["tickMinStep"] == 1 for a in x_axes)
    shape = next(layer["encoding"]["shape"] for layer in ratio["layer"]
                 if "shape" in layer["encoding"])
    assert shape["scale"]["domain"] == ["not a number (nan)", "underflow (0)"]
    assert shape["legend"]["orient"] == "bottom" and shape["legend"]["labelLimit"] == 0
    assert ratio["height"] > 280
    healthy = charts.update_ratio_chart(run.assign(update_ratio=1e-3), "u").to_dict()
    assert next(layer["encoding"]["shape"] for layer in healthy["layer"]
                if "shape" in layer["encoding"])["legend"] is None
    for chart in (charts.loss_chart({"r": run}), charts.accuracy_chart({"r": run}),
                  charts.layer_step_heatmap(run, "update_ratio", title="t", legend="l")):
        spec = json.dumps(chart.to_dict())
        assert '"tickMinStep": 1' in spec and '"format": "d"' in spec
    many = {f"run {k}": run for k in range(7)}
    for chart in (charts.accuracy_chart(many), charts.loss_chart(many)):
        assert chart.to_dict()["height"] >= 100 + 30 * 7  # room for 7 legend entries


def _heatmap_domains(heatmap) -> list:
    spec = heatmap.to_dict()
    return [layer["encoding"]["color"]["scale"]["domain"] for layer in spec["layer"]
            if "field" in layer["encoding"].get("color", {})]


def _subtitle(chart) -> str:
    return " ".join(chart.to_dict()["title"]["subtitle"])


def test_a_pair_that_overlaps_shares_one_scale_and_says_so():
    """Baseline and remedy whose gradients overlap: one colour is one value in both."""
    low = _toy_run([2.0] * 4, [1e-6, 1e-5, 1e-4, 1e-3, 0.0, 1e-3, np.nan, 1e-2])
    high = _toy_run([2.0] * 4, [1e-5, 1e-4, np.inf, 1e-3, 1e-2, 1e-2, 1e-1, 1e-1])
    pair = charts.weight_gradient_pair({"a": low, "b": high}, ["a", "b"])
    assert len(pair) == 2
    for heatmap, ratio in pair:
        assert _heatmap_domains(heatmap)[0] == pytest.approx([-6.0, -1.0])
        assert "same colour scale in both" in _subtitle(heatmap)
        assert "Update-to-weight ratio" in json.dumps(ratio.to_dict()["title"])


def test_a_pair_decades_apart_gets_own_scales_not_one_flat_heatmap():
    """The reported case: the vanishing baseline (1e-8..1e-2) beside ReLU + He (1..1e5
    here): one shared scale turned the remedy's heatmap into one flat colour."""
    small = _toy_run([2.0] * 4, [1e-8, 1e-6, 1e-5, 1e-4, 0.0, 1e-3, np.nan, 1e-2])
    large = _toy_run([2.0] * 4, [1.0, 10.0, np.inf, 1e3, 1e2, 1e3, 1e4, 1e5])
    domains, shared = charts.paired_domains([small, large], "weight_grad_norm", log10=True)
    assert not shared and domains == [pytest.approx([-8.0, -2.0]), pytest.approx([0.0, 5.0])]
    (left, _), (right, _) = charts.weight_gradient_pair({"a": small, "b": large}, ["a", "b"])
    assert _heatmap_domains(left)[0] == pytest.approx([-8.0, -2.0])
    assert _heatmap_domains(right)[0] == pytest.approx([0.0, 5.0])
    for heatmap in (left, right):
        text = _subtitle(heatmap)
        assert "own colour scale" in text and "1e-8 to 1e-2 and 1e0 to 1e5" in text
        assert "(this run)" in json.dumps(heatmap.to_dict())


def test_pairs_share_when_half_the_narrower_range_overlaps():
    wide = _toy_run([2.0] * 4, [1e-8, 1e-6, 1e-5, 1e-4, 1e-3, 1e-3, 1e-2, 1e-2])  # -8..-2
    inside = _toy_run([2.0] * 4, [1e-4, 1e-3] * 4)  # -4..-3: all inside
    edge = _toy_run([2.0] * 4, [1e-3, 1e-1] * 4)  # -3..-1: half of it overlaps
    apart = _toy_run([2.0] * 4, [1e-2, 1e1] * 4)  # -2..1: touches only at -2
    assert charts.paired_domains([wide, inside], "weight_grad_norm", log10=True)[1]
    assert charts.paired_domains([wide, edge], "weight_grad_norm", log10=True)[1]
    assert not charts.paired_domains([wide, apart], "weight_grad_norm", log10=True)[1]
