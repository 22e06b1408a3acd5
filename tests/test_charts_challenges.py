"""core.charts.challenges: the class's answers and the measurement, as Vega-Lite."""
import pandas as pd

from core import challenges
from core.charts import challenges as charts


def layer_data(spec: dict) -> list:
    return [row for name, rows in spec["datasets"].items() for row in rows]


def test_answers_chart_counts_every_choice_and_greens_the_right_one():
    challenge = challenges.get("relu-init")
    counts = challenges.tally(challenge, ["he_normal", "he_normal", "glorot_normal"],
                              "he_normal")
    assert counts["count"].tolist() == [1, 2, 0]  # every choice, zeros included
    spec = charts.answers_chart(counts, "t", decades=False).to_dict()
    rows = layer_data(spec)
    assert {row["kind"] for row in rows} == {"right", "other"}
    assert [row["answer"] for row in rows if row["kind"] == "right"] == ["he_normal"]
    before = charts.answers_chart(challenges.tally(challenge, ["he_normal"]), "t",
                                  decades=False).to_dict()
    assert {row["kind"] for row in layer_data(before)} == {"answers"}  # not yet revealed


def test_decades_histogram_marks_the_measurement_and_the_guess():
    challenge = challenges.get("identity-explode")
    counts = challenges.tally(challenge, ["8", "8.4", "9", "-3"], 8.63)
    assert int(counts.loc[counts["position"] == 8, "count"].iloc[0]) == 2
    assert counts.loc[counts["right"], "position"].tolist() == [8.0, 9.0]
    spec = charts.answers_chart(counts, "t", decades=True, measured=8.63,
                                guess=-3.0).to_dict()
    labels = [row.get("label") for row in layer_data(spec) if "label" in row]
    assert sorted(labels) == ["measured", "your answer"]
    y_axis = spec["layer"][0]["encoding"]["y"]["axis"]
    assert y_axis["values"] == [0, 1, 2]  # whole students only


def test_measured_chart_draws_every_option():
    challenge = challenges.get("cells")
    measurement = challenges.measure("cells")
    data = challenges.chart_data(challenge, measurement)
    assert set(data["series"]) == {"SimpleRNN", "LSTM"} and len(data) == 200
    spec = charts.measured_chart(challenge, measurement).to_dict()
    assert "time step" in str(spec) and "Measured" in str(spec)
    trained = challenges.measure("dying-relu")
    data = challenges.chart_data(challenges.get("dying-relu"), trained)
    assert data["x"].is_monotonic_increasing and data["value"].between(0, 1).all()
    assert charts.measured_chart(challenges.get("dying-relu"), trained).to_dict()
    assert isinstance(data, pd.DataFrame)
