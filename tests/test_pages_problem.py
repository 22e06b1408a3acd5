"""AppTest: the home page and The problem, including widget changes and bad URLs."""

from conftest import chart_specs


def metrics(at):
    return {m.label: m.value for m in at.metric}


def test_home_shows_the_map_and_diary_without_tensorflow(app):
    at = app()
    assert "Gradient Lab" in at.title[0].value
    labels = metrics(at)
    assert "Today" in labels
    assert int(labels["Day of the Gradient Lab project (day 1: 23 Nov 2026)"]) >= 1
    assert any("Back-propagated signal" in m.value for m in at.markdown)


def test_problem_page_defaults_explode_and_widgets_change_it(app):
    at = app("pages/problem.py")
    assert metrics(at)["Verdict"] == "Exploding"
    specs = chart_specs(at)
    assert len(specs) == 3 and all(spec["layer"] for spec in specs)
    at.slider(key="problem:gain").set_value(0.5).run()
    assert not at.exception and metrics(at)["Verdict"] == "Vanishing"
    at.button(key="explode").click().run()
    assert at.slider(key="problem:gain").value == 1.5 and metrics(at)["Verdict"] == "Exploding"
    at.slider(key="problem:gain").set_value(1.0).run()
    assert metrics(at)["Verdict"] == "Healthy"
    assert float(metrics(at)["Gradient ratio layer 1 / layer L"]) == 1.0


def test_problem_page_names_the_overflow_layer_and_float64_removes_it(app):
    at = app("pages/problem.py")
    at.slider(key="problem:depth").set_value(150).run()
    texts = " ".join(w.value for w in at.warning)
    assert "overflows to inf at hidden layer" in texts and "nan" in texts
    at.radio(key="problem:dtype").set_value("float64").run()
    assert not any("overflows" in w.value for w in at.warning)


def test_problem_page_random_weights_section(app):
    at = app("pages/problem.py")
    at.selectbox(key="problem:activation").set_value("relu").run()
    at.select_slider(key="problem:stddev").set_value(0.3).run()
    assert not at.exception
    assert any("relu" in spec.get("title", {}).get("text", "") for spec in chart_specs(at))


def test_bad_url_parameters_warn_and_fall_back(app):
    at = app("pages/problem.py", query={"depth": "999", "gain": "nan",
                                        "activation": "<b>bold</b>", "unknown": "1"})
    warnings = " ".join(w.value for w in at.warning)
    for name in ("`depth`", "`gain`", "`activation`", "`unknown`"):
        assert name in warnings
    assert "`<b>bold</b>`" in warnings  # shown as code, never rendered
    assert at.slider(key="problem:depth").value == 50


def test_good_url_parameters_set_the_view(app):
    at = app("pages/problem.py", query={"depth": "20", "gain": "0.5"})
    assert not at.warning
    assert at.slider(key="problem:depth").value == 20 and at.slider(key="problem:gain").value == 0.5


def test_problem_page_at_a_zero_says_multiplied_by_zero_not_underflow(app):
    """W = 0 * I: every signal below the readout is exactly 0 because it is multiplied
    by zero; the page must not call that underflow (it did: 'underflows ... layer 1')."""
    at = app("pages/problem.py", query={"depth": "10", "gain": "0"})
    texts = [w.value for w in at.warning]
    assert ("The forward signal is exactly 0 from hidden layer 1 on: the weight matrix "
            "of hidden layer 1 is 0 and multiplies it by zero (not underflow).") in texts
    assert any("is exactly 0 from hidden layer 9 down to hidden layer 1: the weight "
               "matrix between hidden layer 9 and 10 is 0" in text for text in texts)
    assert not any("underflows" in text for text in texts)
    at.slider(key="problem:gain").set_value(0.5).run()
    at.slider(key="problem:depth").set_value(150).run()
    texts = " ".join(w.value for w in at.warning)
    assert "underflows to exactly 0" in texts and "multiplies it by zero" not in texts


def chart_data_text(at) -> str:
    """The page's charts' data sets (Streamlit sends them beside the specs), as text."""
    return " ".join(str(data) for chart in at.get("vega_lite_chart")
                    for data in chart.proto.datasets)


def test_problem_page_in_float16_overflows_at_layer_19_and_marks_each_formats_limits(app):
    at = app("pages/problem.py", query={"dtype": "float16"})
    assert not at.exception and not any("`dtype`" in w.value for w in at.warning)
    assert at.radio(key="problem:dtype").options == ["float32", "float64", "float16",
                                                     "bfloat16"]
    texts = [w.value for w in at.warning]
    assert ("The forward signal overflows to inf at hidden layer 19: its norm, summed in "
            "float16, passes float16's largest value 65504.") in texts
    assert "float16 max 65504" in chart_data_text(at)
    [limits] = [frame.value for frame in at.dataframe if "format" in frame.value.columns]
    row = limits.set_index("format").loc["float16"]
    assert row["‖h_l‖ = inf from layer (theory)"] == "19"
    assert row["largest (inf above)"] == "65504"
    at.slider(key="problem:gain").set_value(0.5).run()
    texts = " ".join(w.value for w in at.warning)
    assert "below float16's smallest subnormal 5.96e-08" in texts
    assert "float16 smallest subnormal 6e-8" in chart_data_text(at)
    at.radio(key="problem:dtype").set_value("bfloat16").run()
    assert not at.exception
    assert not any("overflows" in w.value or "underflows" in w.value for w in at.warning)
