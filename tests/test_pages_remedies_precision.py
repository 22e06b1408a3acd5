"""pages/remedies_precision.py: Remedies' half-precision section, trained as a user would
(short runs)."""
from conftest import chart_specs


def test_remedies_loss_scaling_section_trains_three_runs_and_shows_the_zeros(app, monkeypatch):
    from core.experiments import loss_scaling
    monkeypatch.setattr(loss_scaling, "STEPS", 20)
    at = app("pages/remedies.py")
    headers = [h.value for h in at.header]
    assert headers.index("Half precision: gradients that underflow for real, and loss "
                         "scaling") < headers.index("Glorot & Bengio's Figure 2, reproduced")
    next(b for b in at.button if b.label.startswith("Train the three runs")).click().run()
    assert not at.exception, at.exception
    tables = at.session_state["loss_scaling_runs"]
    assert list(tables) == [loss_scaling.FLOAT32, loss_scaling.MIXED, loss_scaling.SCALED]
    assert all(table["step"].max() == 20 for table in tables.values())
    measured = " ".join(c.value for c in at.caption)
    assert "layers 1 to 4 had every gradient entry exactly 0" in measured
    titles = [str(spec.get("title")) for spec in chart_specs(at)]
    assert any("exactly 0, per layer" in title for title in titles)
    assert any("Loss scale over training steps" in title for title in titles)
    assert any(e.label == "Show the Keras code for these runs" for e in at.expander)
    keys = [b.key for b in at.get("download_button")]
    assert {"download_loss_scaling", "loss_scaling_zeros_png", "loss_scaling_scale_svg"} \
        <= set(keys)
