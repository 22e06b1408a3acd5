"""The command line's plumbing (core/cli.py has the commands): a spec's fields as flags,
checked by the spec; a bad flag as one line with exit status 2; tables out as CSV or
JSON, with inf and nan written as text."""
from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from .spec import ModelSpec, describe_field, parse_field


class UsageError(Exception):
    """A bad flag: reported in one line with exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage + error)
        raise UsageError(message)


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_spec_arguments(parser: argparse.ArgumentParser, fields=None, base=None) -> None:
    """One flag per field of `base`'s spec class (ModelSpec by default); the spec checks
    the values."""
    base = base or ModelSpec()
    field_map = base.field_map()
    for name in fields or field_map:
        meta = field_map[name].metadata
        default = getattr(base, name)
        if isinstance(default, tuple):  # a list field: shown as the flag takes it
            default = ",".join(f"{one:g}" for one in default)
        if meta["kind"] is bool:
            parser.add_argument(flag(name), dest=name, action="store_true",
                                help=meta["help"])
        else:
            parser.add_argument(flag(name), dest=name, default=None, metavar=name.upper(),
                                help=f"{meta['help']}; {describe_field(field_map[name])} "
                                     f"(default {default})")


def spec_from_args(args: argparse.Namespace, fields=None, base=None):
    """`base` (ModelSpec() by default) with the flags given; UsageError if one is bad."""
    base = base or ModelSpec()
    field_map = base.field_map()
    values = {}
    for name in fields or field_map:
        raw = getattr(args, name, None)
        if raw is None or raw is False:
            continue
        try:
            values[name] = raw if raw is True else parse_field(field_map[name], raw)
        except ValueError:
            raise UsageError(f"{flag(name)} must be {describe_field(field_map[name])} "
                             f"(got {raw!r})") from None
    try:
        return base.replace(**values)
    except ValueError as error:
        raise UsageError(str(error)) from None


def add_format_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("csv", "json"), default="csv",
                        help="output format (default csv)")


def emit(table: pd.DataFrame, fmt: str, out=None) -> None:
    """Print a table; inf and nan are written as 'inf', '-inf', 'nan' in both formats."""
    out = out or sys.stdout
    if fmt == "json":
        records = [{key: _json_value(value) for key, value in row.items()}
                   for row in table.to_dict(orient="records")]
        if "json" in table.attrs:  # train: {"rows": [...], "forensics": report or null}
            records = {"rows": records, **table.attrs["json"]}
        json.dump(records, out, indent=1)
        out.write("\n")
    else:
        table.to_csv(out, index=False, float_format="%.9g")


def _json_value(value):
    if isinstance(value, float) and (value != value or value in (float("inf"),
                                                                  float("-inf"))):
        return str(value)
    if hasattr(value, "item"):
        return _json_value(value.item())
    return value
