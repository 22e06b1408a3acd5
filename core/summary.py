"""Plain-words diagnosis of a per-layer profile: ratio, verdict, overflow and underflow.

Pure pandas/numpy: it reads only the table, so it applies to any stored result.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

VANISHING_BELOW = 1e-2  # signal ratio layer 1 / layer L below this: vanishing
EXPLODING_ABOVE = 1e2  # ... above this: exploding


def format_value(value: float, digits: int = 4) -> str:
    """A number as text for tooltips, metrics and tables: `digits` significant digits
    ('%g': 0.00000113 is 1.13e-06, 7200000 is 7.2e+06), 'nan', 'inf' and '-inf' spelled
    out, None as 'nan', and never '-0' (a negative number that rounds to zero is 0)."""
    if value is None or math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:.{digits}g}"
    return "0" if float(text) == 0 else text


def format_number(value: float) -> str:
    """A figure in a metric, a sentence or a table: `format_value` to 3 significant
    digits."""
    return format_value(value, digits=3)


def format_table(table: pd.DataFrame) -> pd.DataFrame:
    """`table` for display: every number column as `format_number` text (integers
    whole, missing values 'nan'), so that one table never mixes number formats."""
    shown = table.copy()
    for name in shown.columns:
        column = shown[name]
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            continue
        if pd.api.types.is_integer_dtype(column):
            shown[name] = column.map(str)
        else:
            shown[name] = column.map(lambda value: format_number(float(value)))
    return shown


def first_layer(df: pd.DataFrame, mask, position: str = "layer") -> int | None:
    """The lowest `position` (layer or step) where `mask` holds, or None."""
    positions = df.loc[np.asarray(mask), position]
    return int(positions.iloc[0]) if len(positions) else None


def last_layer(df: pd.DataFrame, mask, position: str = "layer") -> int | None:
    """The highest `position` (layer or step) where `mask` holds, or None."""
    positions = df.loc[np.asarray(mask), position]
    return int(positions.iloc[-1]) if len(positions) else None


def gradient_ratio(first: float, last: float) -> float:
    """first / last, with 0/0 and non-finite values reported as nan."""
    if not (math.isfinite(first) and math.isfinite(last)):
        return math.nan
    if last == 0:
        return math.nan if first == 0 else math.inf
    return first / last


def verdict_of(ratio: float, overflow: bool, underflow: bool) -> str:
    if overflow:
        return "exploding"
    if underflow:
        return "vanishing"
    if not math.isfinite(ratio):
        return "exploding" if ratio == math.inf else "undefined"
    if ratio < VANISHING_BELOW:
        return "vanishing"
    if ratio > EXPLODING_ABOVE:
        return "exploding"
    return "healthy"


def _run_end(mask: np.ndarray, start: int | None, step: int) -> int | None:
    """From row `start`, the last row of the run where `mask` holds, walking by `step`."""
    if start is None:
        return None
    end = start
    while 0 <= end + step < len(mask) and mask[end + step]:
        end += step
    return end


def summarize(df: pd.DataFrame, column: str = "signal_grad_norm", position: str = "layer",
              forward: str = "activation_norm", zero_weights=None,
              forward_zero_weights=None) -> dict:
    """What happened to `column` going back from the last position to the first.

    `position` is the column that orders the rows: "layer" (a profile) or "step" (a
    through-time table); `forward` the forward signal's norm ("activation_norm",
    "state_norm"). `zero_weights`: per row, True where the weight matrix that carries
    the signal from the row before into this row is exactly 0 (default: the table's
    weight_norm == 0, else never); a gradient that is 0 just below such a row was
    multiplied by zero, any other exact 0 is float underflow. `forward_zero_weights`
    (default `zero_weights`) is the same for the forward signal: pass all False where
    the row also receives an input (a recurrent cell reads x_t at every step).

    Keys: position, first_position and last_position; ratio (first / last position),
    log10_ratio, verdict ('vanishing', 'healthy', 'exploding' or 'undefined'); for the
    gradient, where inf, nan and exact 0 are first reached going back (grad_*_from, the
    highest such position), how far down the run goes (grad_*_to) and the zero's cause
    (grad_zero_cause: 'zero weights' or 'underflow'); for the forward signal, where inf,
    nan and 0 first appear going up (forward_*_from) and forward_zero_cause.
    """
    values = df[column].to_numpy(dtype=np.float64)
    ahead = df[forward].to_numpy(dtype=np.float64) if forward in df \
        else np.ones_like(values)
    if zero_weights is None:
        zero_weights = df["weight_norm"].to_numpy() == 0 if "weight_norm" in df else False
    zero_weights = np.broadcast_to(np.asarray(zero_weights, dtype=bool), values.shape)
    forward_zero_weights = zero_weights if forward_zero_weights is None else \
        np.broadcast_to(np.asarray(forward_zero_weights, dtype=bool), values.shape)
    positions = df[position].to_numpy()
    ratio = gradient_ratio(values[0], values[-1])
    overflow = ~np.isfinite(values)
    underflow = values == 0

    def row(mask, highest):
        rows = np.flatnonzero(mask)
        return (int(rows[-1]) if highest else int(rows[0])) if rows.size else None

    def at(index):
        return None if index is None else int(positions[index])

    # The gradient flows from the last position to the first: report the one closest
    # to the output (the highest) where it first broke, and how far down that run goes.
    nan_row, zero_row = row(np.isnan(values), True), row(underflow, True)
    zero_cause = None
    if zero_row is not None:
        above = zero_row + 1
        zero_cause = "zero weights" if above < len(values) and zero_weights[above] \
            else "underflow"
    forward_zero_row = row(ahead == 0, False)
    forward_zero_cause = None if forward_zero_row is None else (
        "zero weights" if forward_zero_weights[forward_zero_row] else "underflow")
    return {
        "position": position,
        "first_position": int(positions[0]),
        "last_position": int(positions[-1]),
        "ratio": ratio,
        "log10_ratio": math.log10(ratio) if ratio > 0 and math.isfinite(ratio) else (
            math.inf if ratio == math.inf else math.nan),
        "verdict": verdict_of(ratio, bool(overflow.any()), bool(underflow.any())),
        "grad_nonfinite_from": at(row(overflow, True)),
        "grad_inf_from": at(row(np.isinf(values), True)),
        "grad_nan_from": at(nan_row),
        "grad_nan_to": at(_run_end(np.isnan(values), nan_row, -1)),
        "grad_zero_from": at(zero_row),
        "grad_zero_to": at(_run_end(underflow, zero_row, -1)),
        "grad_zero_cause": zero_cause,
        "forward_nonfinite_from": at(row(~np.isfinite(ahead), False)),
        "forward_inf_from": at(row(np.isinf(ahead), False)),
        "forward_nan_from": at(row(np.isnan(ahead), False)),
        "forward_zero_from": at(forward_zero_row),
        "forward_zero_to": at(_run_end(ahead == 0, forward_zero_row, 1)),
        "forward_zero_cause": forward_zero_cause,
        "output_norm": float(ahead[-1]),
    }


# What a table's position column counts: a profile's hidden layers, core.flow's layers
# with weights (its "index"), or time steps.
POSITION_NOUNS = {"layer": "hidden layer", "index": "layer", "step": "step"}
NAN = "nan (not a number: inf x 0 or inf - inf)"
OVERFLOW = "its values pass the largest float"
UNDERFLOW = "its values shrink past the smallest positive float and are flushed to 0"

# The number formats of core.spec.DTYPES, narrowest range first. On the CPU TensorFlow
# flushes subnormal results to 0 (flush-to-zero) for float32, float64 and bfloat16; its
# float16 arithmetic keeps subnormals and rounds to 0 only below half the smallest one.
# Measured (tests/test_per_layer.py: the identity network at a = 0.5 in each format).
FORMATS = ("float16", "bfloat16", "float32", "float64")
KEEPS_SUBNORMALS = ("float16",)


def float_limits(dtype: str) -> dict:
    """Where the format `dtype` stops, from its finfo (ml_dtypes.finfo knows bfloat16):
    max (above it: overflow to inf), smallest_normal, smallest_subnormal, flush_below
    (a nonzero result smaller in size becomes exactly 0 here), bits (significand bits,
    the hidden one included) and digits (the decimal digits they hold)."""
    import ml_dtypes  # a TensorFlow dependency: numpy's finfo does not know bfloat16
    info = ml_dtypes.finfo(dtype)
    subnormal = float(info.smallest_subnormal)
    keeps = dtype in KEEPS_SUBNORMALS
    return {"dtype": dtype, "max": float(info.max), "smallest_normal": float(info.tiny),
            "smallest_subnormal": subnormal, "keeps_subnormals": keeps,
            "flush_below": subnormal / 2 if keeps else float(info.tiny),
            "bits": int(info.nmant) + 1, "digits": (int(info.nmant) + 1) * math.log10(2)}


def overflow_text(dtype: str | None = None) -> str:
    """Why a norm became inf, in `dtype`'s own numbers (generic without a dtype). The
    profile sums its norms in the format, so the norm passes the largest value before
    any single entry does."""
    if dtype is None:
        return OVERFLOW
    largest = format_value(float_limits(dtype)["max"], 5)
    return f"its norm, summed in {dtype}, passes {dtype}'s largest value {largest}"


def underflow_text(dtype: str | None = None) -> str:
    """Why a value became exactly 0 by underflow, in `dtype`'s own numbers."""
    if dtype is None:
        return UNDERFLOW
    limits = float_limits(dtype)
    normal, subnormal = (format_number(limits[key]) for key in
                         ("smallest_normal", "smallest_subnormal"))
    if limits["keeps_subnormals"]:
        return (f"its values shrink below {dtype}'s smallest subnormal {subnormal} (digits "
                f"already lost below its smallest normal {normal}) and round to 0")
    return (f"its values shrink below {dtype}'s smallest normal {normal} and TensorFlow "
            f"on the CPU flushes them to 0 (its subnormals, down to {subnormal}, are not "
            f"kept)")


def describe_problems(summary: dict, column_label: str = "back-propagated signal",
                      dtype: str | None = None) -> list[str]:
    """Sentences naming where the signal overflowed (inf), became nan, underflowed, or
    was multiplied by a zero weight matrix (empty if none of these happened). `dtype`:
    the number format computed in, whose own limits the sentences quote.

    Works for hidden layers, core.flow's layers ("index") and time steps
    (summary["position"], from `summarize`)."""
    OVERFLOW, UNDERFLOW = overflow_text(dtype), underflow_text(dtype)  # noqa: N806
    position = summary.get("position", "layer")
    noun = POSITION_NOUNS.get(position, "step")
    last = summary.get("last_position")
    origin = f"step {last}" if noun == "step" else "the output"

    def down(start, end):  # the gradient's run: from `start` down to `end`
        if end is None or end == start:
            return f"at {noun} {start}"
        return f"from {noun} {start} down to {noun} {end}"

    def up(start, end):  # the forward signal's run
        if end is None or end == start:
            return f"at {noun} {start}"
        return f"from {noun} {start} on" if end == last else \
            f"from {noun} {start} to {noun} {end}"

    lines = []
    if summary.get("forward_inf_from") is not None:
        lines.append(f"The forward signal overflows to inf at {noun} "
                     f"{summary['forward_inf_from']}: {OVERFLOW}.")
    if summary.get("forward_nan_from") is not None:
        lines.append(f"The forward signal is {NAN} from {noun} "
                     f"{summary['forward_nan_from']}.")
    zero = summary.get("forward_zero_from")
    if zero is not None:
        span = up(zero, summary.get("forward_zero_to"))
        if summary.get("forward_zero_cause") == "zero weights":
            lines.append(f"The forward signal is exactly 0 {span}: the weight matrix of "
                         f"{noun} {zero} is 0 and multiplies it by zero (not underflow).")
        else:
            lines.append(f"The forward signal underflows to exactly 0 {span}: {UNDERFLOW}.")
    if summary["grad_inf_from"] is not None:
        lines.append(f"Going back from {origin}, the {column_label} overflows to inf "
                     f"at {noun} {summary['grad_inf_from']}: {OVERFLOW}.")
    if summary["grad_nan_from"] is not None:
        lines.append(f"Going back from {origin}, the {column_label} is {NAN} "
                     f"{down(summary['grad_nan_from'], summary.get('grad_nan_to'))}.")
    zero = summary["grad_zero_from"]
    if zero is not None:
        span = down(zero, summary.get("grad_zero_to"))
        if summary.get("grad_zero_cause") == "zero weights":
            lines.append(f"Going back from {origin}, the {column_label} is exactly 0 "
                         f"{span}: the weight matrix between {noun} {zero} and "
                         f"{zero + 1} is 0 and multiplies it by zero (not underflow).")
        else:
            lines.append(f"Going back from {origin}, the {column_label} underflows to "
                         f"exactly 0 {span}: {UNDERFLOW}.")
    return lines


# --- training runs: core.training's long tables (one row per step x layer) -------------
RECENT = 20  # steps averaged for "recent" batch accuracy


def layer_ratio(values: pd.Series) -> float:
    """`gradient_ratio` of a per-layer column: first layer / last layer (nan if empty)."""
    if not len(values):
        return math.nan
    return gradient_ratio(float(values.iloc[0]), float(values.iloc[-1]))


def summarize_run(table: pd.DataFrame) -> dict:
    """Headline numbers of one training run, all read from its recorded table."""
    steps = table.groupby("step", sort=True).first()
    per_step_dead = table.groupby("step")["dead_fraction"].mean()
    evaluated = steps["test_accuracy"].dropna()
    finite_loss = steps["loss"][np.isfinite(steps["loss"])]
    first = table[table["step"] == 1]
    last = table[table["step"] == table["step"].max()]
    divergence = table.attrs.get("divergence") or {}

    def at(series, position):
        return float(series.iloc[position]) if len(series) else math.nan
    return {
        "steps_done": int(table["step"].max()) if len(table) else 0,
        "final_loss": at(finite_loss, -1),
        "min_loss": float(finite_loss.min()) if len(finite_loss) else math.nan,
        "final_test_accuracy": at(evaluated, -1),
        "best_test_accuracy": float(evaluated.max()) if len(evaluated) else math.nan,
        "dead_first": at(per_step_dead, 0),
        "dead_last": at(per_step_dead, -1),
        "dead_max": float(per_step_dead.max()) if len(per_step_dead) else math.nan,
        "clipped_fraction": float(steps["clipped"].mean()) if len(steps) else 0.0,
        # training-mode accuracy on the last RECENT batches (batch norm: batch statistics)
        "recent_batch_accuracy": float(steps["batch_accuracy"].iloc[-RECENT:].mean())
        if len(steps) else math.nan,
        "grad_ratio_first_last": layer_ratio(last["weight_grad_norm"]),
        "grad_ratio_step_1": layer_ratio(first["weight_grad_norm"]),
        "signal_ratio_step_1": layer_ratio(first["signal_grad_norm"]),
        "diverged_step": divergence.get("step"),
        "diverged_layer": divergence.get("layer"),
        "seconds": table.attrs.get("seconds", math.nan),
    }


def summarize_runs(tables: dict) -> pd.DataFrame:
    """`summarize_run` of every run (label -> table), one row each, labelled `run`;
    diverged_step in whole numbers, empty where the run did not diverge."""
    frame = pd.DataFrame([{"run": label, **summarize_run(table)}
                          for label, table in tables.items()])
    if len(frame):
        frame["diverged_step"] = pd.array(frame["diverged_step"].tolist(), dtype="Int64")
    return frame
