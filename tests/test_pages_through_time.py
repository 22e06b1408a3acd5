"""The Through time page (AppTest): controls, charts, warnings and the clipping runs."""
import json

from conftest import chart_specs


def test_page_renders_and_reacts(app):
    at = app("pages/through_time.py", {"cell": "lstm", "forget_bias": "3", "steps": "20",
                                       "units": "16", "gain": "9"})
    assert any("gain" in warning.value for warning in at.warning)
    assert at.selectbox(key="through_time:cell").value == "lstm"
    specs = chart_specs(at)
    assert len(specs) == 3
    ratio = at.metric[0].value
    at.select_slider(key="through_time:forget_bias").set_value(0.0).run()
    assert not at.exception
    assert at.metric[0].value != ratio
    at.selectbox(key="through_time:activation").set_value("linear")
    at.selectbox(key="through_time:cell").set_value("simple").run()
    assert not at.exception
    assert any("theory" in json.dumps(spec) for spec in chart_specs(at))


def test_page_shows_the_figures_and_sentences_core_computes(app):
    """The page draws core.experiments.through_time.measure's figures, unchanged."""
    from core import through_time as tt
    from core.experiments import through_time as experiments
    at = app("pages/through_time.py", {"cell": "gru", "steps": "15", "units": "8"})
    result = experiments.measure(tt.ThroughTimeSpec(cell="gru", steps=15, units=8))
    assert [(m.label, m.value) for m in at.metric] == [
        (label, value) for label, value, _ in result["metrics"]]
    texts = [m.value for m in at.markdown]
    assert result["cells_sentence"] in texts and result["biases_sentence"] in texts


def test_page_trains_with_and_without_clipping(app):
    at = app("pages/through_time.py", {"steps": "10", "units": "8"})
    assert "clipping_result" not in at.session_state
    at.select_slider(key="through_time:clip_train_steps").set_value(50)
    next(b for b in at.button if b.label == "Train both runs").click().run()
    assert not at.exception
    spec, table = at.session_state["clipping_result"]
    assert spec.train_steps == 50 and len(table) == 100
    assert len(chart_specs(at)) == 5
    assert any("Steps clipped" in m.value for m in at.markdown)
    at.slider(key="through_time:steps").set_value(12).run()  # results survive a rerun
    assert "clipping_result" in at.session_state and len(chart_specs(at)) == 5


def test_page_warns_where_the_gradient_breaks(app):
    at = app("pages/through_time.py", {"activation": "linear", "gain": "2",
                                       "steps": "200"})
    texts = [w.value for w in at.warning]
    assert any("the gradient is nan" in text for text in texts)
    assert any("The forward signal overflows to inf at step" in text for text in texts)


def test_the_clipping_form_is_in_the_link_and_the_page_says_the_runs_are_not(app):
    at = app("pages/through_time.py", {"steps": "10", "units": "8", "clip_gain": "2",
                                       "clip_train_steps": "50"})
    assert not at.warning
    assert at.slider(key="through_time:clip_gain").value == 2.0
    assert at.select_slider(key="through_time:clip_train_steps").value == 50
    assert not any("training runs" in c.value for c in at.sidebar.caption)
    next(b for b in at.button if b.label == "Train both runs").click().run()
    spec, _ = at.session_state["clipping_result"]
    assert spec.gain == 2.0 and spec.train_steps == 50
    assert at.query_params.get("clip_gain") in ("2", ["2"])
    assert any("not the training runs" in c.value for c in at.sidebar.caption)
