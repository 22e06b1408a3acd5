"""URL parameters read against a control's own options and bounds: one Field per
control, made from the same declaration that draws the widget (pages/controls.py), so
the check can never drift from the widget.

A Field turns the URL's texts for one name into the value to use and the warnings to
show: out of range, between a slider's steps (the nearest step is used and named), not
one of the options, nan or inf, text, given twice, more than may be chosen. Every
value a user sent is shown through `as_text`, never rendered as markup.
"""
from __future__ import annotations

import math

from .spec import parse_bool


def as_text(value: object, limit: int | None = 40) -> str:
    """A value, safe to show inside Markdown: never rendered as markup. A user's text is
    cut at `limit` characters; the app's own values (limit=None) are shown whole."""
    text = str(value).replace("`", "'").replace("\n", " ")
    return "`" + (text if limit is None or len(text) <= limit else text[:limit] + "...") + "`"


def shown(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(shown(one) for one in value) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class Field:
    """One control: its URL name, how to read a URL text, and how to write the value."""

    def __init__(self, name, default, accepts, parse, many=False, options=None,
                 bounds=None):
        self.name, self.default, self.accepts = name, default, accepts
        self.parse, self.many = parse, many  # parse(text) -> (value, note or None)
        self.options, self.bounds = options, bounds  # what the widget takes

    def encode(self, value) -> str | list[str]:
        if self.many:
            return [str(one) for one in value]
        if isinstance(value, float):
            return format(value, ".12g")
        return str(value)

    def read(self, texts: list[str], fallback):
        """(value, [warnings]) for the URL's values of this field."""
        name = as_text(self.name)
        if self.many:
            return self._read_many(texts, fallback)
        good, notes = [], []
        for text in texts:
            try:
                value, note = self.parse(text)
            except (ValueError, OverflowError, TypeError):
                notes.append(f"URL parameter {name} = {as_text(text)} is not usable: it "
                             f"must be {self.accepts}.")
                continue
            good.append(value)
            if note:
                notes.append(f"URL parameter {name} = {as_text(text)} {note}.")
        if len(texts) > 1:
            notes.append(f"URL parameter {name} is given {len(texts)} times; it takes "
                         f"one value.")
        value = good[-1] if good else fallback
        if notes:
            notes[-1] += f" Using {as_text(shown(value), None)}."
        return value, notes

    def _read_many(self, texts, fallback):
        name, chosen, notes = as_text(self.name), [], []
        for text in texts:
            try:
                value, _ = self.parse(text)
            except (ValueError, OverflowError, TypeError):
                notes.append(f"{as_text(text)} is not {self.accepts}")
                continue
            if value in chosen:
                notes.append(f"{as_text(text)} is given twice")
            else:
                chosen.append(value)
        limit = self.many if self.many is not True else len(chosen)
        if len(chosen) > limit:
            notes.append(f"at most {limit} can be chosen, and {len(chosen)} were given")
            chosen = chosen[:limit]
        if not chosen and texts:
            chosen = list(fallback)
        if not notes:
            return chosen, []
        return chosen, [f"URL parameter {name}: " + "; ".join(notes) +
                        f". Using {as_text(shown(chosen), None)}."]


def finite_number(text: str) -> float:
    number = float(str(text).strip())
    if not math.isfinite(number):
        raise ValueError
    return number


def range_field(name, default, low, high, step):
    integer = all(isinstance(one, int) for one in (low, high, 1 if step is None else step))
    accepts = (f"an integer from {low} to {high}" if integer
               else f"a number from {low:g} to {high:g}")
    if step not in (None, 1):
        accepts += f" in steps of {step:g}"

    def parse(text):
        number = finite_number(text)
        if not low <= number <= high:
            raise ValueError
        note = None
        if integer and not number.is_integer() and step in (None, 1):
            raise ValueError
        if step:
            snapped = low + round((number - low) / step) * step
            snapped = min(max(snapped, low), high)
            snapped = int(round(snapped)) if integer else round(snapped, 10)
            if not math.isclose(snapped, number, rel_tol=0, abs_tol=1e-9):
                note = (f"is between the slider's steps of {step:g}; the nearest step is "
                        f"used")
            number = snapped
        return (int(number) if integer else float(number)), note
    return Field(name, default, accepts, parse, bounds=(low, high, step))


def option_field(name, default, options, format_func=str, many=False):
    options = list(options)
    numeric = all(isinstance(o, (int, float)) and not isinstance(o, bool) for o in options)
    accepts = "one of " + ", ".join(format_func(o) for o in options)

    def parse(text):
        text = str(text).strip()
        for option in options:
            if text in (str(option), format_func(option)):
                return option, None
        if not numeric:
            raise ValueError
        number = finite_number(text)
        for option in options:
            if math.isclose(number, option, rel_tol=1e-9, abs_tol=1e-12):
                return option, None
        if many or not min(options) <= number <= max(options):
            raise ValueError
        nearest = min(options, key=lambda option: abs(option - number))
        return nearest, (f"is not one of the slider's values ({accepts[7:]}); the "
                         f"nearest, {format_func(nearest)}, is used")
    return Field(name, default, accepts, parse, many=many, options=options)


def bool_field(name, default):
    return Field(name, default, "true or false", lambda text: (parse_bool(text), None),
                 options=[False, True])


def text_field(name, default, parse, accepts, example):
    """Free text checked by `parse(text)` (ValueError if unusable). `example` is one
    good value, kept as the field's options for the URL tests."""
    def check(text):
        return parse(text), None
    return Field(name, default, accepts, check, options=[example])
