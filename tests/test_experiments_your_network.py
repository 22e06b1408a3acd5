"""core.experiments.your_network: blocks, diagnosis, comparisons and the shown code."""
import contextlib
import io

import numpy as np
import pandas as pd
import pytest

from core.experiments import your_network as yn
from core.zoo import ZooSpec, flow_of


def table_of(signals, blocks, dead=None, kinds=None):
    n = len(signals)
    return pd.DataFrame({"index": np.arange(1, n + 1), "name": [f"l{i}" for i in range(n)],
                         "kind": kinds or ["Dense"] * n, "block": blocks,
                         "signal_grad_norm": signals, "weight_grad_norm": np.ones(n),
                         "weight_norm": np.ones(n), "activation_norm": np.ones(n),
                         "dead_fraction": dead if dead is not None else np.zeros(n)})


def test_by_block_groups_consecutive_layers():
    blocks = yn.by_block(table_of([8.0, 4.0, 2.0, 1.0], ["a", "a", "b", "c"]))
    assert list(blocks["block"]) == ["a", "b", "c"]
    assert list(blocks["signal_grad_norm"]) == [8.0, 2.0, 1.0]  # each block's first layer
    assert blocks["weight_grad_norm"][0] == pytest.approx(np.sqrt(2))
    assert list(blocks["first_layer"]) == [1, 3, 4] and list(blocks["last_layer"]) == [2, 3, 4]


def test_diagnosis_names_big_changes_dead_layers_and_batch_norm_growth():
    table = table_of([5000.0, 100.0, 90.0, 1.0], ["a", "b", "c", "d"],
                     dead=[0, 0.75, 0, 0], kinds=["Dense", "BatchNormalization", "Dense",
                                                  "Dense"])
    lines = yn.diagnosis(table)
    assert lines[0].startswith("Going back from the last layer to the first, the signal's "
                               "norm is multiplied by 5e+03 (exploding)")
    assert "Across block a (layer 1) the signal grows 50x going back." in lines
    assert "Across block c (layer 3) the signal grows 90x going back." in lines
    assert not any("block b" in line for line in lines)  # 100 / 90: about 1x
    assert any("Layer 2 (l1) has 75% dead units" in line for line in lines)
    assert any("Yang et al. 2019" in line for line in lines)
    shown = yn.diagnosis(table, show=lambda name: f"<{name}>")
    assert any("Layer 2 (<l1>)" in line for line in shown)


def test_diagnosis_reports_zeros_and_inf_from_core_summary():
    lines = yn.diagnosis(table_of([np.inf, 1.0, 0.0, 1.0], ["a", "b", "c", "d"]))
    assert any("underflows to exactly 0 at layer 3" in line for line in lines)
    assert any("overflows to inf at layer 1" in line for line in lines)


def test_the_literature_story_as_measured():
    post, pre = (flow_of(s) for s in yn.pair("Post-LN vs Pre-LN Transformer", 6))
    story = yn.compare_story("Post-LN vs Pre-LN Transformer", post, pre,
                             ("Post-LN", "Pre-LN"))
    spread = [yn.by_block(t).query("block.str.startswith('block_')")["weight_grad_norm"]
              for t in (post, pre)]
    assert spread[0].iloc[-1] / spread[0].iloc[0] > 1.3  # largest near the output
    assert 0.5 < spread[1].iloc[-1] / spread[1].iloc[0] < 1.2  # even across blocks
    assert "Post-LN's gradients are largest near the output" in story
    plain, resnet = (flow_of(s) for s in yn.pair("Plain CNN vs ResNet, with batch norm",
                                                  56))
    ratios = [t["signal_grad_norm"].iloc[0] / t["signal_grad_norm"].iloc[-2]
              for t in (plain, resnet)]
    assert ratios[0] > 1e3 and ratios[1] < ratios[0] / 100
    assert "Yang et al. (2019)" in yn.compare_story(
        "Plain CNN vs ResNet, with batch norm", plain, resnet, ("plain", "resnet"))


@pytest.mark.parametrize("spec", [
    ZooSpec(architecture="resnet", depth=8, width=4, batch_norm=True, batch_size=2),
    ZooSpec(architecture="transformer_post_ln", blocks=2, d_model=16, heads=2, seq_len=4,
            batch_size=2, seed=3),
    ZooSpec(architecture="lstm", depth=2, width=8, seq_len=5, batch_size=2),
    ZooSpec(architecture="resnet", depth=8, width=4, batch_size=2, residual_scale=0.5),
    ZooSpec(architecture="transformer_pre_ln", blocks=2, d_model=16, heads=2, seq_len=4,
            batch_size=2, residual_scale=0.0),
    ZooSpec(architecture="transformer_post_ln", blocks=2, d_model=16, heads=2, seq_len=4,
            batch_size=2, residual_scale=0.3)])
def test_the_keras_code_prints_the_numbers_of_the_chart(spec):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(yn.keras_code(spec), {"__name__": "shown"})
    rows = [line.split() for line in printed.getvalue().splitlines()]
    table = flow_of(spec)
    assert [row[1] for row in rows] == list(table["name"])
    np.testing.assert_allclose([float(row[2]) for row in rows], table["signal_grad_norm"],
                               rtol=1e-6)


def test_code_of_applications_uses_flow_and_the_mlps_is_the_pages_script():
    code = yn.keras_code(ZooSpec(architecture="vgg16"))
    assert "build(spec)" in code and "'vgg16'" in code
    from core.keras_model import keras_code  # run by tests/test_keras_model.py
    spec = ZooSpec(architecture="mlp", depth=3, width=8, batch_norm=True, seed=4)
    assert yn.keras_code(spec) == keras_code(spec.model_spec())
    skipped = spec.replace(residual_scale=0.25)
    mlp = skipped.model_spec(residual=True)
    assert yn.keras_code(skipped, mlp) == keras_code(mlp) and "residual_scale=0.25" in \
        keras_code(mlp)


def test_beta_is_in_the_shown_code_of_every_zoo_model_with_skips():
    assert "residual_scale=1.0)" in yn.keras_code(ZooSpec(architecture="resnet", depth=8))
    code = yn.keras_code(ZooSpec(architecture="transformer_post_ln", residual_scale=0.5))
    assert "residual_scale=0.5)" in code and "layers.Rescaling(residual_scale" in code
    assert "residual_scale" not in yn.keras_code(ZooSpec(architecture="plain_cnn",
                                                         depth=8)).split("\nrandom.seed")[1]


def test_presets_and_what_l_counts():
    assert yn.skip_scale("1/sqrt(L)", 9) == pytest.approx(1 / 3)
    assert (yn.skip_scale("1", 9), yn.skip_scale("0", 9)) == (1.0, 0.0)
    with pytest.raises(ValueError, match="residual scale preset"):
        yn.skip_scale("7", 9)
    assert yn.preset_label("1/sqrt(L)", 9) == "β = 1/√L = 0.333"
    assert yn.preset_label("1/sqrt(L)", 0) == "β = 1/√L" and yn.preset_label("0", 4) == "β = 0"
    assert yn.skips_note(ZooSpec(architecture="resnet", depth=20)).startswith("L = 9 blocks")
    assert "no skip connections" in yn.skips_note(ZooSpec(architecture="lstm"))
    assert "Turn the skips on" in yn.skips_note(ZooSpec(architecture="mlp"))


def test_the_diagnosis_follows_beta():
    spec = ZooSpec(architecture="transformer_pre_ln", blocks=2, d_model=16, heads=2,
                   seq_len=4, batch_size=2)
    lines = yn.diagnosis(flow_of(spec), str, spec)
    assert any("*Theory*" in line and "(1 + β²)^L = 16 over the L skips" in line
               for line in lines)
    assert not any("β = 0:" in line for line in lines)
    zero = spec.replace(residual_scale=0.0)
    lines = yn.diagnosis(flow_of(zero), str, zero)
    text = " ".join(lines)
    assert "β = 0: every sublayer is the identity at initialization (SkipInit/ReZero)" in text
    assert "gradient reaches the input unchanged" in text
    assert "The 10 layers inside the branches get exactly 0" in text
    assert "underflow" not in text.replace("not underflow", "")  # the zeros are β's
    assert lines[0].endswith("(healthy).")  # over the final norm and the readout
    without = yn.diagnosis(flow_of(zero), str)  # no spec: read as any model
    assert any("underflows to exactly 0" in line for line in without)
    lstm = ZooSpec(architecture="lstm", depth=2, width=8, seq_len=5, batch_size=2,
                   residual_scale=0.0)
    assert not any("β" in line for line in yn.diagnosis(flow_of(lstm), str, lstm))


def test_the_mlp_diagnosis_measures_beside_theory():
    spec = ZooSpec(architecture="mlp", depth=6, width=32, batch_size=16,
                   residual_scale=0.0)
    mlp = spec.model_spec(residual=True)
    lines = yn.diagnosis(flow_of(spec, mlp), str, spec, mlp)
    assert "Measured over the L skipped layers: forward ‖h_L‖²/‖h_1‖² = 1, backward " \
           "‖dLoss/dh_1‖²/‖dLoss/dh_L‖² = 1." in lines
    assert any("Measured: 5 layers' kernels get exactly 0 gradient" in line
               for line in lines)
    half = spec.replace(residual_scale=0.5)
    mlp = half.model_spec(residual=True, activation="linear", init="lecun_normal")
    line = next(line for line in yn.diagnosis(flow_of(half, mlp), str, half, mlp)
                if line.startswith("Measured over"))
    forward = float(line.split("= ")[1].split(",")[0])
    assert 1.25 ** 5 / 1.5 < forward < 1.25 ** 5 * 1.5  # theory (1 + β²)^L = 3.05


def test_an_uploaded_json_model_is_measured_and_cached_by_content():
    from core.tf_setup import keras
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="only")])
    data = model.to_json().encode()
    table = yn.measure_upload("json", data, batch_size=4)
    assert list(table["name"]) == ["only"] and table.attrs["model_name"] == model.name
    assert yn._uploaded.size() >= 1
    buffer = io.BytesIO()
    np.savez(buffer, x=np.ones((5, 3)), y=np.zeros((5, 2)))
    with_batch = yn.measure_upload("json", data, batch=buffer.getvalue())
    assert with_batch.attrs["output_shapes"] == [(5, 2)]
