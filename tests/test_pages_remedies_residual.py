"""pages/remedies_residual.py: the Remedies page's residual-scaling section, as a user
would use it: the signal per beta beside theory, its controls, and short trainings."""
from conftest import chart_specs


def section_specs(at):
    return [spec for spec in chart_specs(at)
            if "(1 + β²)" in " ".join(spec["title"].get("subtitle", []))]


def test_the_section_draws_every_beta_beside_theory_and_follows_its_controls(app):
    at = app("pages/remedies.py", {"steps": "100"})
    specs = section_specs(at)
    assert len(specs) == 2  # forward and backward
    assert "Forward" in specs[0]["title"]["text"] and "Backward" in specs[1]["title"]["text"]
    growth = next(frame.value for frame in at.dataframe if "β" in frame.value.columns)
    assert len(growth) == 6  # two branches x three presets
    keys = [b.key for b in at.get("download_button")]
    assert {"download_residual", "residual_forward_png", "residual_backward_svg"} <= set(keys)

    at.radio(key="remedies:residual_branch").set_value("relu").run()
    at.select_slider(key="remedies:residual_depth").set_value(10).run()
    at.multiselect(key="remedies:residual_scale").set_value(["1", "0"]).run()
    assert not at.exception, at.exception
    specs = section_specs(at)
    assert "ReLU branch" in " ".join(specs[0]["title"]["subtitle"])
    assert at.query_params["residual_scale"] == ["1", "0"]
    assert at.query_params["residual_depth"] == "10"
    captions = " ".join(c.value for c in at.caption)
    assert "over the 9 skipped layers" in captions

    at.button(key="train_residual").click().run()
    assert not at.exception, at.exception
    tables = at.session_state["residual_runs"]
    assert list(tables) == ["baseline", "skips, β = 1", "skips, β = 0 (learned)"]
    assert all(table["step"].max() == 100 for table in tables.values())
    summary = next(frame.value for frame in at.dataframe if "outcome" in frame.value.columns)
    assert summary["run"].tolist() == list(tables)
    assert "learned β" in " ".join(c.value for c in at.caption)
    assert {"residual_loss", "residual_accuracy"} <= {
        key.rsplit("_", 1)[0] for key in (b.key for b in at.get("download_button"))}

    at.multiselect(key="remedies:residual_scale").set_value([]).run()
    assert not at.exception and any("at least one β" in i.value for i in at.info)


def test_a_bad_beta_in_the_url_is_named_and_the_default_used(app):
    at = app("pages/remedies.py", {"residual_scale": "2"})
    assert any("residual_scale" in w.value for w in at.warning)
    assert len(section_specs(at)) == 2
