"""pages/forensics.py on each page that shows a diverged run: the report, the replays."""
import numpy as np

from conftest import chart_specs

HEADLINE = "First non-finite quantity:"


def button(at, label_start):
    return next(b for b in at.button if b.label.startswith(label_start))


def titles(at):
    return [str(spec.get("title")) for spec in chart_specs(at)]


def test_activations_reports_a_diverged_selu_run_and_replays_it(app):
    at = app("pages/activations.py", {"activation": "selu", "learning_rate": "1.0",
                                      "steps": "100"})
    assert not any(HEADLINE in e.value for e in at.error)
    button(at, "Train this network").click().run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error if HEADLINE in e.value]
    assert errors == ["First non-finite quantity: the activation (nan) at step 5, hidden "
                      "layer 6. Likely cause: learning rate × gradient norm."]
    assert any("72% of layer 6's units were saturated" in m.value for m in at.markdown)
    assert sum("up to the divergence" in title for title in titles(at)) == 2
    table = next(frame.value for frame in at.dataframe
                 if "learning rate × ‖g‖" in frame.value.columns)
    assert list(table["step"]) == ["1", "2", "3", "4", "5"]
    assert "activations_forensics_csv" in [b.key for b in at.get("download_button")]
    fix = button(at, "Replay with learning rate")
    fix.click().run()
    assert not at.exception, at.exception
    replays = at.session_state["activations_forensics_replays"]["tables"]
    (label, replay), = replays.items()
    assert label.startswith("replay: learning rate") and replay.attrs["stopped"] is None
    assert replay.attrs["training_spec"]["seed"] == 0
    assert any("Original and replays" in title for title in titles(at))
    # side by side: the original's heatmap and the replay's
    assert sum("log10" in title for title in titles(at)) == 2


def test_remedies_reports_the_exploding_baseline_and_replays_it_clipped(app):
    at = app("pages/remedies.py")
    at.radio(key="remedies:scenario").set_value("exploding").run()
    at.multiselect(key="remedies:remedies_exploding").set_value([])
    at.select_slider(key="remedies:steps").set_value(100)
    button(at, "Train the baseline").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error if HEADLINE in e.value] == [
        "First non-finite quantity: the activation (nan) at step 4, hidden layer 2. Likely "
        "cause: learning rate × gradient norm."]
    button(at, "Replay with global_clipnorm = 1").click().run()
    assert not at.exception, at.exception
    replay = at.session_state["remedies_forensics_replays"]["tables"][
        "replay: global_clipnorm = 1"]
    assert replay.attrs["stopped"] is None and replay["step"].max() == 100
    assert np.isfinite(replay["loss"]).all() and replay["clipped"].any()
    assert any("Original and replays" in title for title in titles(at))


def test_through_time_reports_the_unclipped_run_and_says_what_is_covered(app):
    at = app("pages/through_time.py", {"steps": "10", "units": "8", "clip_gain": "2.5",
                                       "clip_learning_rate": "1.0",
                                       "clip_train_steps": "50"})
    next(b for b in at.button if b.label == "Train both runs").click().run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error if HEADLINE in e.value]
    assert len(errors) == 1 and "the loss (inf)" in errors[0] and "unclipped" in errors[0]
    assert any("not a layer" in c.value for c in at.caption)  # what is covered
    assert any("up to the divergence" in title for title in titles(at))
    button(at, "Replay with learning rate 0.1").click().run()
    assert not at.exception, at.exception
    replays = at.session_state["through_time_forensics_replays"]["tables"]
    (label, replay), = replays.items()
    assert label == "replay: learning rate 0.1, no clipping"
    assert np.isfinite(replay["loss"]).all()
    assert any("Original and replays: loss" in title for title in titles(at))
