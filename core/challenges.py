"""Predict, then reveal: a bank of challenges, each graded against a live measurement.

A challenge is a question about one or more frozen specs (ModelSpec, a ModelSpec and a
TrainingSpec, or a ThroughTimeSpec). Its answer is never written down: `measure` runs
the core on those specs (core.per_layer.profile, core.training.train,
core.through_time.through_time) and reads one number from the result, and `grade`
compares a guess with that number. Three kinds of question:

- "decades": a number on a log scale, answered in decades (log10); a guess is right
  within `tolerance` decades of the measurement;
- "bucket": one measured number, answered by picking the range it falls in (`edges`
  between the `choices`), or a measured word (a verdict) picked from the choices;
- "pick": one measurement per option; the right option is the one the `pick` rule
  selects (closest to 1, largest, smallest).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .cache import memoize
from .spec import Spec

KINDS = ("decades", "bucket", "pick")
PICKS = ("closest_to_one", "largest", "smallest")
TOLERANCE = 1.0  # decades: a guess within one decade of the measurement is right


@dataclass(frozen=True)
class Reading:
    """What to measure for one option, and how to draw it."""
    title: str  # the measured number, in words
    x: str  # the table's position column ("layer", "step")
    column: str  # the column drawn per position
    y_title: str
    log: bool = True  # draw `column` on a log axis


def _profile_summary(specs):
    from .per_layer import profile
    from .summary import summarize
    table = profile(specs[0])
    return table, summarize(table)


def _time_summary(specs):
    from .experiments.through_time import diagnose
    from .through_time import through_time
    table = through_time(specs[0])
    return table, diagnose(table, specs[0])


@memoize(entries=16)
def _trained(model_spec, training_spec) -> pd.DataFrame:
    from .training import train
    return train(model_spec, training_spec)


def _train_summary(specs):
    from .summary import summarize_run
    table = _trained(*specs)
    return table, summarize_run(table)


GRADIENT = "‖dLoss/dh_l‖ (back-propagated signal)"
# name -> (compute(specs) -> (table, summary dict), summary key, Reading)
READINGS = {
    "ratio_decades": (_profile_summary, "log10_ratio", Reading(
        "log10 of the gradient ratio layer 1 / layer L", "layer", "signal_grad_norm",
        GRADIENT)),
    "verdict": (_profile_summary, "verdict", Reading(
        "the verdict on the gradient ratio layer 1 / layer L", "layer",
        "signal_grad_norm", GRADIENT)),
    "overflow_layer": (_profile_summary, "forward_inf_from", Reading(
        "the first hidden layer whose output overflows to inf", "layer", "activation_norm",
        "‖h_l‖ (forward signal)")),
    "time_decades": (_time_summary, "log10_ratio", Reading(
        "log10 of the gradient ratio step 1 / step T", "step", "signal_grad_norm",
        "‖dLoss/dh_t‖")),
    "dead_last": (_train_summary, "dead_last", Reading(
        "the fraction of dead units after training", "step", "dead_fraction",
        "dead units (mean over layers)", log=False)),
    "test_accuracy": (_train_summary, "final_test_accuracy", Reading(
        "the test accuracy after training", "step", "test_accuracy", "test accuracy",
        log=False)),
}


@dataclass(frozen=True)
class Challenge:
    """One question about `options` (label -> tuple of specs), graded live."""
    key: str  # URL-safe id
    page: str  # the topic page it belongs to (pages/<page>.py)
    question: str
    why: str  # one sentence on why, shown at the reveal
    reading: str  # a READINGS name
    options: tuple  # ((label, (spec, ...)), ...); one option for decades and bucket
    kind: str = "decades"
    choices: tuple = ()  # bucket: the ranges or words; pick: the option labels
    edges: tuple = ()  # bucket over a number: len(choices) - 1 edges, ascending
    pick: str = "closest_to_one"
    low: float = -20.0  # decades: the slider's range
    high: float = 20.0
    tolerance: float = TOLERANCE

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS} (got {self.kind!r})")
        if self.reading not in READINGS:
            raise ValueError(f"reading must be one of {tuple(READINGS)}")
        for _, specs in self.options:
            if not all(isinstance(spec, Spec) for spec in specs):
                raise ValueError(f"{self.key}: options hold frozen specs")
        if self.kind == "pick":
            object.__setattr__(self, "choices", tuple(label for label, _ in self.options))
            if self.pick not in PICKS:
                raise ValueError(f"pick must be one of {PICKS} (got {self.pick!r})")
        elif len(self.options) != 1:
            raise ValueError(f"{self.key}: a {self.kind} challenge has one option")
        if self.kind == "bucket" and self.edges and len(self.edges) != len(self.choices) - 1:
            raise ValueError(f"{self.key}: {len(self.choices)} choices need "
                             f"{len(self.choices) - 1} edges")

    @property
    def specs(self) -> tuple:
        return tuple(spec for _, specs in self.options for spec in specs)


@dataclass
class Measurement:
    """The live answer of a challenge: `answer` (a choice, or decades) and the data."""
    answer: object  # str (bucket, pick) or float (decades)
    values: pd.DataFrame  # option, value: the measured reading per option
    tables: dict = field(default_factory=dict)  # option label -> the core's table


def decades(ratio: float) -> float:
    """log10(ratio): -inf for 0 (underflow), inf for inf, nan for nan."""
    if math.isnan(ratio):
        return math.nan
    if ratio == 0:
        return -math.inf
    return math.log10(ratio) if math.isfinite(ratio) else math.inf


def bucket_of(challenge: Challenge, value) -> str:
    """The choice a measured number (or word) falls in."""
    if isinstance(value, str):
        return value
    if not challenge.edges:
        raise ValueError(f"{challenge.key}: a number needs edges")
    return challenge.choices[int(np.searchsorted(challenge.edges, value, side="right"))]


def answer_of(challenge: Challenge, values: list) -> object:
    """The right answer, from the measured value of every option (in order)."""
    if challenge.kind == "decades":
        return float(values[0])
    if challenge.kind == "bucket":
        value = values[0]
        if value is None:  # "never": past the last edge
            return challenge.choices[-1]
        return bucket_of(challenge, value)
    numbers = np.array([np.nan if v is None else float(v) for v in values])
    if challenge.pick == "closest_to_one":
        numbers = np.abs(numbers)  # values are decades: |log10| is the distance to 1
        best = np.nanargmin(numbers)
    elif challenge.pick == "largest":
        best = np.nanargmax(numbers)
    else:
        best = np.nanargmin(numbers)
    return challenge.choices[int(best)]


def compute(challenge: Challenge) -> Measurement:
    """Run the core on every option and read the answer (uncached)."""
    run, key, _ = READINGS[challenge.reading]
    tables, values = {}, []
    for label, specs in challenge.options:
        table, summary = run(specs)
        tables[label] = table
        value = summary[key]
        if key == "log10_ratio":  # underflow to 0 is -inf decades, not nan
            value = decades(summary["ratio"])
        values.append(None if value is None else value if isinstance(value, str)
                      else float(value))
    frame = pd.DataFrame({"option": [label for label, _ in challenge.options],
                          "value": values})
    return Measurement(answer_of(challenge, values), frame, tables)


@memoize(entries=64)
def _measure(key: str) -> Measurement:
    return compute(get(key))


def measure(key: str) -> Measurement:
    """The live measurement of challenge `key`, cached by core.cache."""
    return _measure(key)


def prefetch(key: str) -> None:
    """Start measuring challenge `key` in a background thread (a later `measure` waits
    for it instead of starting again); errors are left to that later call."""
    import threading

    def run():
        try:
            measure(key)
        except Exception:  # noqa: BLE001 - measure() raises it again when asked
            pass
    threading.Thread(target=run, name=f"challenge {key}", daemon=True).start()


def check_answer(challenge: Challenge, guess) -> object:
    """`guess` validated for this challenge: a choice, or decades in the slider's range.

    ValueError with a clear message otherwise."""
    if challenge.kind == "decades":
        try:
            number = float(guess)
        except (TypeError, ValueError):
            raise ValueError("the answer must be a number of decades, e.g. -3") from None
        if not math.isfinite(number) or not challenge.low <= number <= challenge.high:
            raise ValueError(f"the answer must be a number of decades from "
                             f"{challenge.low:g} to {challenge.high:g}")
        return number
    if guess not in challenge.choices:
        raise ValueError(f"the answer must be one of: {', '.join(challenge.choices)}")
    return guess


def grade(challenge: Challenge, guess, answer) -> bool:
    """Whether `guess` is right, given the measured `answer` (from `measure`)."""
    guess = check_answer(challenge, guess)
    if challenge.kind == "decades":
        return math.isfinite(answer) and abs(guess - answer) <= challenge.tolerance
    return guess == answer


def answer_text(challenge: Challenge, answer) -> str:
    """The measured answer in words: '10^8.6 (8.6 decades)' or the choice."""
    if challenge.kind == "decades":
        if not math.isfinite(answer):
            return "not a finite ratio"
        return f"10^{answer:.1f} ({answer:+.1f} decades)"
    return str(answer)


def get(key: str) -> Challenge:
    """The challenge named `key`; ValueError naming the known keys otherwise."""
    from .challenge_bank import BANK
    for challenge in BANK:
        if challenge.key == key:
            return challenge
    raise ValueError(f"unknown challenge {key!r}")


def for_page(page: str) -> list[Challenge]:
    from .challenge_bank import BANK
    return [challenge for challenge in BANK if challenge.page == page]


def all_challenges() -> list[Challenge]:
    from .challenge_bank import BANK
    return list(BANK)


def tally(challenge: Challenge, guesses: list, answer=None) -> pd.DataFrame:
    """Answers counted: one row per choice (every choice, zeros included) or per whole
    decade from low to high; `right` marks the rows graded right when `answer` is
    given (for decades: the decades within the tolerance). Columns: answer, position
    (decades: the decade; else the choice's order), count, right."""
    if challenge.kind == "decades":
        positions = np.arange(math.floor(challenge.low), math.ceil(challenge.high) + 1)
        counts = pd.Series([round(float(g)) for g in guesses], dtype="int64") \
            .value_counts()
        frame = pd.DataFrame({"answer": [f"{p:+d}" if p else "0" for p in positions],
                              "position": positions.astype(float),
                              "count": [int(counts.get(p, 0)) for p in positions]})
        frame["right"] = False if answer is None else [
            math.isfinite(answer) and abs(p - answer) <= challenge.tolerance
            for p in positions]
        return frame
    counts = pd.Series(list(guesses), dtype=object).value_counts()
    return pd.DataFrame({"answer": list(challenge.choices),
                         "position": np.arange(len(challenge.choices), dtype=float),
                         "count": [int(counts.get(c, 0)) for c in challenge.choices],
                         "right": [answer is not None and c == answer
                                   for c in challenge.choices]})


def chart_data(challenge: Challenge, measurement: Measurement) -> pd.DataFrame:
    """What the reveal draws: per option (`series`), the reading's column by position
    (x: layer or step; value). Training tables: the mean over layers at each step."""
    reading = READINGS[challenge.reading][2]
    frames = []
    for label, table in measurement.tables.items():
        rows = table[[reading.x, reading.column]]
        if "layer" in table and reading.x == "step":  # a training run's long table
            rows = rows.groupby("step", as_index=False)[reading.column].mean().dropna()
        frames.append(pd.DataFrame({"x": rows[reading.x].to_numpy(),
                                    "series": label or "measured",
                                    "value": rows[reading.column].to_numpy(
                                        dtype=np.float64)}))
    return pd.concat(frames, ignore_index=True)
