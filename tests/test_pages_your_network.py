"""AppTest: Your network, zoo models, a pasted model, refusals and the comparison."""
from conftest import chart_specs

from core.tf_setup import keras


def metrics(at):
    return {m.label: m.value for m in at.metric}


def test_defaults_measure_a_resnet_and_compare_post_and_pre_ln(app):
    at = app("pages/your_network.py")
    assert "Your network" in at.title[0].value
    assert int(metrics(at)["Layers with weights"]) == 22  # 19 convs, 2 shortcuts, readout
    titles = [spec["title"]["text"] for spec in chart_specs(at)]
    assert titles[0].startswith("Gradient flow of resnet-20")
    assert "block by block" in titles[1]
    assert titles.count("Post-LN vs Pre-LN Transformer") == 2
    text = " ".join(m.value for m in at.markdown)
    assert "signal's norm is multiplied by" in text
    assert "Xiong et al." in text and "Measured: in Post-LN" in text
    assert any("def cifar_cnn" in code.value for code in at.code)


def test_controls_change_the_architecture(app):
    at = app("pages/your_network.py", {"architecture": "transformer_pre_ln",
                                         "blocks": "2"})
    assert int(metrics(at)["Layers with weights"]) == 2 * 5 + 2  # + final norm, readout
    at.selectbox(key="your_network:architecture").set_value("lstm").run()
    at.slider(key="your_network:lstm_depth").set_value(2).run()
    assert not at.exception and int(metrics(at)["Layers with weights"]) == 3
    at.selectbox(key="your_network:comparison").set_value(
        "Plain CNN vs ResNet, with batch norm").run()
    at.select_slider(key="your_network:compare_depth").set_value(20).run()
    assert not at.exception
    assert "Yang et al." in " ".join(m.value for m in at.markdown)


def test_a_pasted_model_is_measured_and_bad_ones_refused(app):
    at = app("pages/your_network.py", {"source": "upload"})
    assert any("Upload a .keras file" in i.value for i in at.info)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="relu",
                                                                    name="**bold**"),
                              keras.layers.Dense(3)])
    at.text_area(key="your_network_json").set_value(model.to_json()).run()
    assert not at.exception and int(metrics(at)["Layers with weights"]) == 2
    assert any(b.proto.id.endswith("download_flow") for b in at.get("download_button"))
    lam = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2),
                            keras.layers.Dense(2)])
    at.text_area(key="your_network_json").set_value(lam.to_json()).run()
    assert not at.exception and at.error and any("Lambda" in c.value for c in at.code)
    at.text_area(key="your_network_json").set_value("{not json").run()
    assert not at.exception and any("not JSON" in c.value for c in at.code)


def diagnosis_text(at):
    return " ".join(m.value for m in at.markdown)


def test_the_skip_scale_control_changes_the_chart_and_the_diagnosis(app):
    at = app("pages/your_network.py")
    beta = at.radio(key="your_network:residual_scale")
    assert beta.value == "1" and not beta.disabled
    assert any(c.value.startswith("L = 9 blocks") for c in at.caption)
    before = chart_specs(at)[0]
    beta.set_value("0").run()
    assert not at.exception and at.query_params["residual_scale"] == "0"
    titles = [spec["title"]["text"] for spec in chart_specs(at)]
    assert titles[0] == "Gradient flow of resnet-20, β = 0" and chart_specs(at)[0] != before
    text = diagnosis_text(at)
    assert "β = 0: every block whose shortcut is the identity is the identity at " \
           "initialization (SkipInit/ReZero" in text
    assert "the gradient crosses those blocks unchanged" in text
    assert any("residual_scale=0.0)" in code.value for code in at.code)
    at.radio(key="your_network:residual_scale").set_value("1/sqrt(L)").run()
    assert chart_specs(at)[0]["title"]["text"] == "Gradient flow of resnet-20, β = 0.333"
    assert "(1/√L)" in diagnosis_text(at)


def test_beta_from_the_url_and_architectures_without_skips(app):
    at = app("pages/your_network.py", {"architecture": "transformer_pre_ln", "blocks": "2",
                                         "residual_scale": "0"})
    assert at.radio(key="your_network:residual_scale").value == "0"
    assert "the gradient reaches the input unchanged" in diagnosis_text(at)
    at.selectbox(key="your_network:architecture").set_value("lstm").run()
    beta = at.radio(key="your_network:residual_scale")
    assert not at.exception and beta.disabled
    assert any("lstm has no skip connections" in c.value for c in at.caption)
    assert "β" not in chart_specs(at)[0]["title"]["text"]
    at.selectbox(key="your_network:architecture").set_value("mlp").run()
    assert at.radio(key="your_network:residual_scale").disabled
    at.toggle(key="your_network:residual").set_value(True).run()
    assert not at.exception and not at.radio(key="your_network:residual_scale").disabled
    assert "forward ‖h_L‖²/‖h_1‖² = 1, backward" in diagnosis_text(at)  # β = 0 still


def test_a_bad_beta_in_the_url_is_named_in_a_warning(app):
    at = app("pages/your_network.py", {"residual_scale": "7"})
    assert any("residual_scale" in w.value and "7" in w.value for w in at.warning)
    assert at.radio(key="your_network:residual_scale").value == "1"
