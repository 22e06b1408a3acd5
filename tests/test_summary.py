"""core.summary on hand-made tables: exact positions, and the right word for each event.

Four events, four sentences: overflow (inf), nan (inf x 0 or inf - inf), float
underflow (values flushed to 0) and multiplication by a zero weight matrix.
"""
import math

import numpy as np
import pandas as pd
import pytest

from core import summary

INF, NAN = math.inf, math.nan


def table(signal, forward=None, weight_norm=None, position="layer"):
    n = len(signal)
    columns = {position: np.arange(1, n + 1), "signal_grad_norm": signal}
    if forward is not None:
        columns["activation_norm" if position == "layer" else "state_norm"] = forward
    if weight_norm is not None:
        columns["weight_norm"] = weight_norm
    return pd.DataFrame(columns)


def test_gradient_events_are_located_from_the_output_side_exactly():
    # layers:       1    2    3    4    5    6    7    8
    grads = [NAN, NAN, INF, INF, 1e30, 1e10, 1.0, 0.5]
    found = summary.summarize(table(grads, forward=np.ones(8), weight_norm=np.ones(8)))
    assert found["grad_inf_from"] == 4
    assert (found["grad_nan_from"], found["grad_nan_to"]) == (2, 1)
    assert found["grad_nonfinite_from"] == 4 and found["grad_zero_from"] is None
    assert found["verdict"] == "exploding" and math.isnan(found["ratio"])
    lines = summary.describe_problems(found)
    assert lines == [
        "Going back from the output, the back-propagated signal overflows to inf at "
        "hidden layer 4: its values pass the largest float.",
        "Going back from the output, the back-propagated signal is nan (not a number: "
        "inf x 0 or inf - inf) from hidden layer 2 down to hidden layer 1."]


def test_gradient_underflow_names_the_last_zero_layer_not_layer_1():
    # The gradient reaches layer 6 and is 0 from there down: 6, not 1 (the first zero
    # row) -- the page once said "from layer 1" when the zeros began at the top.
    grads = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1e-44, 1e-30, 1e-10]
    found = summary.summarize(table(grads, forward=np.ones(9), weight_norm=np.ones(9)))
    assert (found["grad_zero_from"], found["grad_zero_to"]) == (6, 1)
    assert found["grad_zero_cause"] == "underflow" and found["verdict"] == "vanishing"
    [line] = summary.describe_problems(found)
    assert line == ("Going back from the output, the back-propagated signal underflows to "
                    "exactly 0 from hidden layer 6 down to hidden layer 1: its values "
                    "shrink past the smallest positive float and are flushed to 0.")


def test_forward_events_are_located_from_the_input_side_exactly():
    forward = [1.0, 1e20, 1e38, INF, INF, NAN, NAN]
    found = summary.summarize(table(np.ones(7), forward=forward, weight_norm=np.ones(7)))
    assert (found["forward_inf_from"], found["forward_nan_from"]) == (4, 6)
    assert found["forward_nonfinite_from"] == 4 and found["output_norm"] != found[
        "output_norm"]
    assert summary.describe_problems(found) == [
        "The forward signal overflows to inf at hidden layer 4: its values pass the "
        "largest float.",
        "The forward signal is nan (not a number: inf x 0 or inf - inf) from hidden "
        "layer 6."]
    vanishing = summary.summarize(table(np.ones(6), forward=[1.0, 1e-20, 1e-39, 0, 0, 0],
                                        weight_norm=np.full(6, 0.5)))
    assert (vanishing["forward_zero_from"], vanishing["forward_zero_to"]) == (4, 6)
    assert summary.describe_problems(vanishing) == [
        "The forward signal underflows to exactly 0 from hidden layer 4 on: its values "
        "shrink past the smallest positive float and are flushed to 0."]


def test_zero_weights_are_multiplication_by_zero_not_underflow():
    # The problem page at a = 0: W = 0 * I at every layer; the top gradient is the
    # readout's, every one below it is W^T times it: exactly 0.
    found = summary.summarize(table([0.0, 0.0, 0.0, 0.0, 0.09], forward=np.zeros(5),
                                    weight_norm=np.zeros(5)))
    assert found["forward_zero_cause"] == found["grad_zero_cause"] == "zero weights"
    assert (found["grad_zero_from"], found["forward_zero_from"]) == (4, 1)
    lines = summary.describe_problems(found)
    assert lines == [
        "The forward signal is exactly 0 from hidden layer 1 on: the weight matrix of "
        "hidden layer 1 is 0 and multiplies it by zero (not underflow).",
        "Going back from the output, the back-propagated signal is exactly 0 from hidden "
        "layer 4 down to hidden layer 1: the weight matrix between hidden layer 4 and 5 "
        "is 0 and multiplies it by zero (not underflow)."]
    assert not any("underflows" in line for line in lines)


def test_only_the_matrix_above_the_first_zero_decides_its_cause():
    # Layer 3 has zero weights, but the gradient is already 0 at layer 4 because of
    # layer 5's nonzero matrix: underflow, at layer 4.
    grads = [0.0, 0.0, 0.0, 0.0, 1e-45, 1.0]
    found = summary.summarize(table(grads, forward=np.ones(6),
                                    weight_norm=[1, 1, 0, 1, 1, 1]))
    assert found["grad_zero_from"] == 4 and found["grad_zero_cause"] == "underflow"
    found = summary.summarize(table(grads, forward=np.ones(6),
                                    weight_norm=[1, 1, 1, 1, 0, 1]))
    assert found["grad_zero_from"] == 4 and found["grad_zero_cause"] == "zero weights"


def test_four_events_four_distinct_sentences():
    kinds = {
        "inf": table([1.0, INF, 1.0], forward=np.ones(3), weight_norm=np.ones(3)),
        "nan": table([NAN, 1.0, 1.0], forward=np.ones(3), weight_norm=np.ones(3)),
        "underflow": table([0.0, 1e-40, 1.0], forward=np.ones(3), weight_norm=np.ones(3)),
        "zero": table([0.0, 0.0, 1.0], forward=np.ones(3), weight_norm=np.zeros(3)),
    }
    sentences = {}
    for kind, frame in kinds.items():
        [sentences[kind]] = summary.describe_problems(summary.summarize(frame))
    assert len(set(sentences.values())) == 4
    assert "overflows to inf" in sentences["inf"]
    assert "inf x 0" in sentences["nan"]
    assert "underflows" in sentences["underflow"] and "flushed" in sentences["underflow"]
    assert "multiplies it by zero" in sentences["zero"]
    assert "underflow" not in sentences["zero"].replace("not underflow", "")


def test_healthy_table_has_no_sentences_and_its_ratio():
    found = summary.summarize(table([2.0, 1.5, 1.0], forward=np.ones(3)))
    assert found["ratio"] == 2.0 and found["verdict"] == "healthy"
    assert found["log10_ratio"] == pytest.approx(math.log10(2.0))
    assert summary.describe_problems(found) == []


def test_steps_use_the_same_rules_with_the_step_column():
    grads = [NAN, NAN, INF, 1e30, 1.0]
    found = summary.summarize(table(grads, forward=np.ones(5), position="step"),
                              position="step", forward="state_norm")
    assert (found["grad_inf_from"], found["grad_nan_from"]) == (3, 2)
    assert summary.describe_problems(found, "gradient") == [
        "Going back from step 5, the gradient overflows to inf at step 3: "
        "its values pass the largest float.",
        "Going back from step 5, the gradient is nan (not a number: inf x 0 or inf - inf) "
        "from step 2 down to step 1."]
    zero = summary.summarize(table([0.0, 0.0, 0.0, 1.0], forward=np.ones(4),
                                   position="step"),
                             position="step", forward="state_norm", zero_weights=True,
                             forward_zero_weights=False)
    assert summary.describe_problems(zero, "gradient") == [
        "Going back from step 4, the gradient is exactly 0 from step 3 down to step 1: "
        "the weight matrix between step 3 and 4 is 0 and multiplies it by zero (not "
        "underflow)."]
    # without a weight_norm column and no zero_weights, a zero is underflow
    plain = summary.summarize(table([0.0, 1e-40, 1.0], position="step"), position="step")
    assert plain["grad_zero_cause"] == "underflow" and plain["grad_zero_from"] == 1


@pytest.mark.parametrize("first, last, expected", [
    (1.0, 4.0, 0.25), (0.0, 1.0, 0.0), (1.0, 0.0, INF), (0.0, 0.0, NAN),
    (INF, 1.0, NAN), (1.0, NAN, NAN)])
def test_gradient_ratio(first, last, expected):
    got = summary.gradient_ratio(first, last)
    assert got == expected or (math.isnan(got) and math.isnan(expected))


@pytest.mark.parametrize("ratio, overflow, underflow, verdict", [
    (1.0, True, False, "exploding"), (1.0, False, True, "vanishing"),
    (NAN, False, False, "undefined"), (INF, False, False, "exploding"),
    (0.99e-2, False, False, "vanishing"), (1e-2, False, False, "healthy"),
    (1e2, False, False, "healthy"), (1.01e2, False, False, "exploding")])
def test_verdict_thresholds(ratio, overflow, underflow, verdict):
    assert summary.verdict_of(ratio, overflow, underflow) == verdict


def test_a_run_of_zeros_ends_where_the_zeros_end():
    # layers:  1    2    3    4    5    6
    grads = [0.0, 0.0, 1e-3, 0.0, 0.0, 1.0]
    found = summary.summarize(table(grads, forward=np.ones(6), weight_norm=np.ones(6)))
    assert (found["grad_zero_from"], found["grad_zero_to"]) == (5, 4)
    forward = [1.0, 0.0, 0.0, 2.0, 0.0, 1.0]
    found = summary.summarize(table([1.0] * 6, forward=forward, weight_norm=np.ones(6)))
    assert (found["forward_zero_from"], found["forward_zero_to"]) == (2, 3)


def test_layer_ratio_is_gradient_ratio_of_the_first_and_last_layer():
    assert summary.layer_ratio(pd.Series([1e-4, 3.0, 1.0])) == pytest.approx(1e-4)
    assert summary.layer_ratio(pd.Series([2.0, 0.0])) == INF
    assert math.isnan(summary.layer_ratio(pd.Series([INF, 1.0])))
    assert math.isnan(summary.layer_ratio(pd.Series([], dtype=float)))


def test_a_training_run_summary_and_the_table_of_several():
    run = pd.DataFrame({"step": np.repeat([1, 2, 3], 2), "layer": np.tile([1, 2], 3),
                        "loss": np.repeat([2.3, 1.2, NAN], 2),
                        "test_accuracy": np.repeat([0.1, NAN, 0.4], 2),
                        "batch_accuracy": np.repeat([0.1, 0.2, 0.3], 2),
                        "clipped": np.repeat([True, False, False], 2),
                        "dead_fraction": [0.0, 0.5, 0.5, 0.5, 1.0, 1.0],
                        "weight_grad_norm": [1e-3, 1.0, 1.0, 1.0, 1.0, 4.0],
                        "signal_grad_norm": [2.0, 1.0, 1.0, 1.0, 1.0, 1.0]})
    run.attrs.update(divergence={"step": 3, "layer": 2}, seconds=0.5)
    found = summary.summarize_run(run)
    assert found["steps_done"] == 3 and found["final_loss"] == 1.2 == found["min_loss"]
    assert (found["final_test_accuracy"], found["best_test_accuracy"]) == (0.4, 0.4)
    assert (found["dead_first"], found["dead_last"], found["dead_max"]) == (0.25, 1.0, 1.0)
    assert found["clipped_fraction"] == pytest.approx(1 / 3)
    assert found["recent_batch_accuracy"] == pytest.approx(0.2)
    assert (found["grad_ratio_step_1"], found["signal_ratio_step_1"]) == (1e-3, 2.0)
    assert found["grad_ratio_first_last"] == 0.25
    assert (found["diverged_step"], found["diverged_layer"]) == (3, 2)
    healthy = run.copy()
    healthy.attrs.update(divergence=None)
    table = summary.summarize_runs({"a": run, "b": healthy})
    assert table["run"].tolist() == ["a", "b"]
    assert str(table["diverged_step"].dtype) == "Int64"
    assert table["diverged_step"].iloc[0] == 3 and pd.isna(table["diverged_step"].iloc[1])

def test_one_number_format_never_minus_zero_and_tables_as_text():
    import math
    import pandas as pd
    from core.summary import format_number, format_table, format_value
    assert [format_number(v) for v in (-0.0, -1e-9, 0.00000113, 2.7e-7, 7200000)] == \
        ["0", "-1e-09", "1.13e-06", "2.7e-07", "7.2e+06"]
    assert format_value(-0.00001, 1) == "-1e-05" and format_value(None) == "nan"
    assert format_value(math.inf) == "inf" and format_value(-math.inf) == "-inf"
    shown = format_table(pd.DataFrame({"name": ["a", "b"], "ratio": [1.13e-6, math.nan],
                                       "steps": [3, 4], "flag": [True, False]}))
    assert shown.ratio.tolist() == ["1.13e-06", "nan"] and shown.steps.tolist() == ["3", "4"]
    assert shown.flag.tolist() == [True, False] and shown.name.tolist() == ["a", "b"]


def test_each_formats_limits_are_its_finfo_and_the_sentences_quote_them():
    limits = {dtype: summary.float_limits(dtype) for dtype in summary.FORMATS}
    assert limits["float16"]["max"] == 65504.0
    assert limits["float16"]["smallest_normal"] == 2.0 ** -14  # 6.1e-5
    assert limits["float16"]["smallest_subnormal"] == 2.0 ** -24  # 6e-8
    assert limits["float16"]["flush_below"] == 2.0 ** -25  # half of it rounds to 0
    assert limits["bfloat16"]["smallest_normal"] == limits["float32"]["smallest_normal"]
    assert limits["bfloat16"]["max"] == pytest.approx(3.3895e38, rel=1e-4)  # float32's range
    assert limits["bfloat16"]["bits"] == 8 and 2 < limits["bfloat16"]["digits"] < 3
    assert limits["float32"]["flush_below"] == limits["float32"]["smallest_normal"]
    assert limits["float64"]["max"] == float(np.finfo(np.float64).max)
    found = {"position": "layer", "last_position": 30, "grad_inf_from": 12,
             "grad_nan_from": None, "grad_zero_from": None}
    assert summary.describe_problems(found, dtype="float16") == [
        "Going back from the output, the back-propagated signal overflows to inf at "
        "hidden layer 12: its norm, summed in float16, passes float16's largest value "
        "65504."]
    zero = {**found, "grad_inf_from": None, "grad_zero_from": 5, "grad_zero_to": 1,
            "grad_zero_cause": "underflow"}
    [line] = summary.describe_problems(zero, dtype="float16")
    assert "below float16's smallest subnormal 5.96e-08" in line and "round to 0" in line
    [line] = summary.describe_problems(zero, dtype="bfloat16")
    assert "bfloat16's smallest normal 1.18e-38" in line and "flushes them to 0" in line
    multiplied = {**zero, "grad_zero_cause": "zero weights"}
    [line] = summary.describe_problems(multiplied, dtype="float16")
    assert "multiplies it by zero (not underflow)" in line
