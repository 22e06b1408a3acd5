"""core.challenges: every challenge of the bank graded against the core.

The expected answers are recomputed here from the core's own functions (per_layer,
through_time, summary), and a few against closed forms; the bank never stores one.
"""
import math
from pathlib import Path

import numpy as np
import pytest

from core import challenges
from core.challenge_bank import BANK
from core.experiments.through_time import diagnose
from core.per_layer import profile
from core.summary import summarize, summarize_run
from core.through_time import ThroughTimeSpec, through_time

ROOT = Path(__file__).resolve().parents[1]
KEYS = [challenge.key for challenge in BANK]


def expected_values(challenge):
    """Each option's reading, computed here without core.challenges."""
    values = []
    for label, specs in challenge.options:
        if challenge.reading in ("dead_last", "test_accuracy"):
            # trainings are slow: reuse the measured table, recompute the reading
            table = challenges.measure(challenge.key).tables[label]
            values.append(summarize_run(table)[
                "dead_last" if challenge.reading == "dead_last" else "final_test_accuracy"])
            continue
        spec = specs[0]
        if isinstance(spec, ThroughTimeSpec):
            result = diagnose(through_time(spec), spec)
        else:
            result = summarize(profile(spec))
        if challenge.reading == "verdict":
            values.append(result["verdict"])
        elif challenge.reading == "overflow_layer":
            values.append(result["forward_inf_from"])
        else:
            ratio = result["ratio"]
            values.append(-math.inf if ratio == 0 else math.log10(ratio))
    return values


@pytest.mark.parametrize("key", KEYS)
def test_grading_matches_the_core(key):
    challenge = challenges.get(key)
    measured = challenges.measure(key)
    values = expected_values(challenge)
    if challenge.kind == "decades":
        answer = values[0]
        assert math.isfinite(answer)
        assert challenge.low + 1 <= answer <= challenge.high - 1  # the slider reaches it
        assert measured.answer == pytest.approx(answer, abs=1e-9)
        assert challenges.grade(challenge, round(answer), measured.answer)
        assert challenges.grade(challenge, answer + 0.9, measured.answer)
        wrong = answer + 3 if answer + 3 <= challenge.high else answer - 3
        assert not challenges.grade(challenge, wrong, measured.answer)
        return
    if challenge.kind == "bucket":
        value = values[0]
        if isinstance(value, str):
            right = value
        elif value is None:
            right = challenge.choices[-1]
        else:
            # the measurement is not on the fence between two ranges
            assert all(abs(value - edge) > 0.03 * max(abs(edge), 1)
                       for edge in challenge.edges)
            right = challenge.choices[sum(value >= edge for edge in challenge.edges)]
    else:
        numbers = np.array(values, dtype=float)
        scores = -np.abs(numbers) if challenge.pick == "closest_to_one" else \
            numbers if challenge.pick == "largest" else -numbers
        scores = np.where(np.isnan(scores), -np.inf, scores)
        order = np.argsort(scores)[::-1]
        right = challenge.choices[order[0]]
        gap = scores[order[0]] - scores[order[1]]
        assert gap > (0.03 if challenge.reading == "test_accuracy" else 0.3), \
            f"{key}: options too close to call ({values})"
    assert measured.answer == right
    assert challenges.grade(challenge, right, measured.answer)
    for choice in challenge.choices:
        if choice != right:
            assert not challenges.grade(challenge, choice, measured.answer)


def test_closed_forms():
    """The identity network and the linear orthogonal RNN have exact answers."""
    assert challenges.measure("identity-explode").answer == pytest.approx(
        49 * math.log10(1.5), abs=1e-3)
    assert challenges.measure("identity-vanish").answer == pytest.approx(
        49 * math.log10(0.5), abs=1e-3)
    assert challenges.measure("rnn-linear-gain").answer == pytest.approx(
        99 * math.log10(1.1), abs=1e-2)
    assert challenges.measure("orthogonal-linear").answer == pytest.approx(0, abs=1e-3)
    # ||h_l|| = 1.9^l ||x|| first passes float32's max at l = ceil(log(max/||x||)/log 1.9)
    table = challenges.measure("identity-overflow").tables[""]
    first = math.ceil(math.log(float(np.finfo(np.float32).max) / table.attrs["input_norm"])
                      / math.log(1.9))
    assert summarize(table)["forward_inf_from"] == first
    assert challenges.measure("identity-overflow").answer == "layers 101-150"


def test_answers_are_validated():
    decades = challenges.get("identity-explode")
    choice = challenges.get("relu-init")
    assert challenges.check_answer(decades, "3.5") == 3.5
    for bad in ("three", None, math.nan, math.inf, 21, -21):
        with pytest.raises(ValueError, match="decades"):
            challenges.check_answer(decades, bad)
    with pytest.raises(ValueError, match="one of: glorot_normal, he_normal"):
        challenges.check_answer(choice, "<b>he</b>")
    with pytest.raises(ValueError, match="unknown challenge"):
        challenges.get("nope")


def test_decades_and_answer_text():
    assert challenges.decades(0.0) == -math.inf
    assert challenges.decades(math.inf) == math.inf
    assert math.isnan(challenges.decades(math.nan))
    assert challenges.decades(1000.0) == pytest.approx(3)
    decades = challenges.get("identity-explode")
    assert challenges.answer_text(decades, 8.63) == "10^8.6 (+8.6 decades)"
    assert challenges.answer_text(challenges.get("relu-init"), "he_normal") == "he_normal"


def test_a_bad_challenge_is_refused():
    spec = BANK[0].options
    with pytest.raises(ValueError, match="kind"):
        challenges.Challenge("x", "problem", "q?", "w", "ratio_decades", spec, kind="poll")
    with pytest.raises(ValueError, match="edges"):
        challenges.Challenge("x", "problem", "q?", "w", "overflow_layer", spec,
                             kind="bucket", choices=("a", "b"), edges=(1, 2))
    with pytest.raises(ValueError, match="frozen specs"):
        challenges.Challenge("x", "problem", "q?", "w", "ratio_decades", (("", (1,)),))
