"""The Activations and Remedies pages, run as a user would, with short trainings."""
from conftest import chart_specs


def button(at, label_start):
    return next(b for b in at.button if b.label.startswith(label_start))


def download_keys(at):
    return [b.key for b in at.get("download_button")]


def check_exports(at, csv_keys, next_page):
    """Every chart has PNG and SVG buttons, each table a CSV, Keras code, a next link."""
    keys = download_keys(at)
    assert sum(key.endswith("_png") for key in keys) == len(chart_specs(at))
    assert sum(key.endswith("_svg") for key in keys) == len(chart_specs(at))
    assert set(csv_keys) <= set(keys), keys
    assert any(e.label.startswith("Show the Keras code") for e in at.expander)
    links = [link.proto for link in at.get("page_link")]
    assert any(link.page == next_page and link.label.startswith("Next:") for link in links)


def test_activations_page_shows_curves_and_a_short_run(app):
    at = app("pages/activations.py")
    assert len(chart_specs(at)) == 3  # phi, phi' and born dead before any training
    facts = at.dataframe[0].value
    relu = facts[facts["activation"] == "relu"].iloc[0]
    assert relu["slope exactly 0 for"] == "z <= 0"
    at.select_slider(key="activations:steps").set_value(100)
    button(at, "Train this network").click().run()
    assert not at.exception, at.exception
    runs = at.session_state["activation_runs"]
    (label, table), = runs.items()
    assert label.startswith("relu, lr 0.5") and table["step"].max() <= 100
    specs = chart_specs(at)
    assert len(specs) == 6  # curves x2, born dead, dead-fraction heatmap, loss, accuracy
    assert "Dead units" in str(specs[3]["title"])
    check_exports(at, ["download_facts", "download_curves", "download_summary",
                       "download_run"], "remedies")
    # Activations' loss axis stops at 1e3 x the initial loss: a diverging run is capped.
    loss = next(spec for spec in specs if "Training loss" in str(spec["title"]))
    top = max(layer["encoding"]["y"]["scale"]["domain"][1] for layer in loss["layer"])
    assert top <= 1e4
    # A finished run survives a widget change (and the rerun it causes).
    at.select_slider(key="activations:negative_slope").set_value(0.1).run()
    assert not at.exception and label in at.session_state["activation_runs"]


def test_activations_page_warns_about_bad_url_values(app):
    at = app("pages/activations.py", {"learning_rate": "fast"})
    assert any("learning_rate" in w.value for w in at.warning)


def test_remedies_page_trains_a_baseline_and_a_remedy(app):
    at = app("pages/remedies.py")
    at.radio(key="remedies:scenario").set_value("exploding").run()
    at.multiselect(key="remedies:remedies_exploding").set_value(["global_clipnorm = 1",
                                                        "batch normalization"])
    at.select_slider(key="remedies:steps").set_value(100)
    button(at, "Train the baseline").click().run()
    assert not at.exception, at.exception
    tables = at.session_state["remedy_runs"]
    assert list(tables) == ["baseline", "global_clipnorm = 1", "batch normalization"]
    summary = at.dataframe[0].value.set_index("run")
    assert summary.loc["baseline", "outcome"].startswith("diverged at step")
    assert summary.loc["global_clipnorm = 1", "steps clipped"] > 0
    final_loss = summary["final loss"]
    assert all(len(text.split("e")[0].replace(".", "").lstrip("0")) <= 4
               for text in final_loss), final_loss  # 4 significant digits
    check_exports(at, ["download_init_profiles", "download_summary", "download_remedies"],
                  "through_time")
    # The pair's heatmaps: the exploding baseline's weight gradients (1e2 to 1e29 here)
    # and the clipped run's (about 1e1 to 1e3) barely overlap, so each keeps its own
    # colour scale rather than one flat heatmap, and both subtitles say so.
    heatmaps = [spec for spec in chart_specs(at) if "log10" in str(spec.get("title"))]
    domains = [[layer["encoding"]["color"]["scale"]["domain"] for layer in spec["layer"]
                if "field" in layer["encoding"].get("color", {})][0] for spec in heatmaps]
    assert len(domains) == 2 and domains[0] != domains[1]
    assert all("own colour scale" in " ".join(spec["title"]["subtitle"]) for spec in heatmaps)
    titles = " ".join(str(spec.get("title")) for spec in chart_specs(at))
    for expected in ("Training loss", "log10", "Update-to-weight", "before clipping",
                     "signal"):
        assert expected in titles
    # Changing the scenario keeps the finished runs on screen.
    at.radio(key="remedies:scenario").set_value("vanishing").run()
    assert not at.exception and "remedy_runs" in at.session_state


def test_remedies_glorot_figure_2_reports_what_it_measured(app, monkeypatch):
    from core.experiments import remedies
    model, training = remedies.GLOROT_FIGURE_2
    monkeypatch.setattr(remedies, "GLOROT_FIGURE_2",
                        (model, training.replace(steps=60, eval_every=20)))
    at = app("pages/remedies.py")
    button(at, "Train both networks").click().run()
    assert not at.exception, at.exception
    assert list(at.session_state["glorot_runs"]) == ["sigmoid", "tanh"]
    measured = " ".join(c.value for c in at.caption)
    assert "top layer's mean" in measured and "at step 60" in measured
    keys = download_keys(at)
    assert {"download_glorot_sigmoid", "download_glorot_tanh", "download_glorot",
            "glorot_accuracy_png", "glorot_chart_sigmoid_png"} <= set(keys)
