"""AppTest for the "Why it happens" page, with widget changes."""
from tests.conftest import chart_specs

WHY = "pages/why.py"


def metric(at, label_start):
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def test_why_page_renders_and_reacts(app):
    at = app(WHY, {"depth": "12"})
    assert at.title[0].value.startswith("🔍")
    assert len(chart_specs(at)) >= 6
    assert "notes vs the measurement" in at.info[0].value
    first = metric(at, "Signal ratio layer 1 / L (measured)")
    theory = metric(at, "Signal ratio (theory)")
    assert first != "nan" and theory != "nan"

    at.radio(key="why:gb_activation").set_value("tanh").run()
    assert not at.exception
    assert "zero-centred" in at.info[0].value

    at.selectbox(key="why:activation").set_value("relu").run()
    at.selectbox(key="why:init").set_value("he_normal").run()
    assert not at.exception
    assert metric(at, "Signal ratio layer 1 / L (measured)") != first
    titles = [spec.get("title", {}).get("text", "") for spec in chart_specs(at)]
    assert any("relu, he_normal" in title for title in titles)


def test_why_page_warns_on_bad_url(app):
    at = app(WHY, {"depth": "abc", "gb_activation": "relu"})
    text = " ".join(w.value for w in at.warning)
    assert "depth" in text and "gb_activation" in text


def test_why_weight_gradient_is_the_median_of_three_seeds(app):
    at = app(WHY, {"activation": "relu", "init": "glorot_uniform", "depth": "20",
                   "width": "256"})
    label = "Weight-gradient ratio 1 / L (median of 3 seeds)"
    value = float(metric(at, label))
    help_text = next(m.help for m in at.metric if m.label == label)
    per_seed = sorted(float(part.split(": ")[1]) for part in
                      help_text.split("seeds ")[1].split(". ")[0].split(", "))
    assert value == per_seed[1]  # the median of the three seeds' ratios
    text = next(m.value for m in at.markdown if m.value.startswith("Here the weight"))
    assert ("is flat" in text) == (0.5 <= value <= 2)
    assert any(c.value.startswith("Noise") and "√(20 / 256)" in c.value for c in at.caption)


def test_why_glorot_bengio_table_and_saturation_chart(app):
    at = app(WHY, {"gb_depth": "4"})
    columns = list(at.dataframe[0].value.columns)
    assert columns[1:3] == ["signal ratio 1 / L", "weight-gradient ratio 1 / L"]
    caption = next(c.value for c in at.caption if c.value.startswith("Saturated fraction"))
    assert "coincide" in caption and "standard" in caption and "Glorot" in caption
    spec = next(s for s in chart_specs(at)
                if s.get("title", {}).get("text") == "Saturated units per layer")
    assert spec["encoding"]["strokeDash"]["field"] == "init"
    assert spec["encoding"]["x"]["axis"]["format"] == "d"


def test_why_table_uses_one_number_format(app):
    from core.summary import format_number
    at = app(WHY, {"gb_depth": "4"})
    table = at.dataframe[0].value
    cells = [str(value) for name in table.columns[1:] for value in table[name]]
    assert cells and "None" not in cells and not any(c.startswith("-0") for c in cells)
    numbers = [float(c) for c in cells]  # every cell is format_number's text
    assert cells == [format_number(number) for number in numbers]


def test_why_z_range_is_a_url_control_that_widens_the_curves(app):
    at = app(WHY, {"z_range": "10"})
    assert at.select_slider(key="why:z_range").value == 10.0 and not at.warning
    curves = next(spec for spec in chart_specs(at)
                  if spec.get("title", {}).get("text") == "Activations φ(z)")
    assert curves  # the curves chart is drawn at the URL's range
    from core.experiments import why
    assert why.slope_curves(reach=10.0).z.max() == 10.0
    at.select_slider(key="why:z_range").set_value(2.0).run()
    assert at.query_params.get("z_range") in ("2", ["2"])
    bad = app(WHY, {"z_range": "7"})
    assert any("z_range" in w.value for w in bad.warning)
