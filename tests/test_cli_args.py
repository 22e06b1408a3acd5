"""core/cli_args.py: a spec's fields as flags, checked by the spec; one-line errors;
tables out as CSV or JSON with inf and nan as text."""
import io
import json

import numpy as np
import pandas as pd
import pytest

from core.cli_args import (Parser, UsageError, add_format_argument, add_spec_arguments,
                           emit, flag, spec_from_args)
from core.spec import ModelSpec


def parse(*argv, fields=None):
    parser = Parser(prog="test")
    add_spec_arguments(parser, fields=fields)
    add_format_argument(parser)
    return parser.parse_args(list(argv))


def test_every_field_is_a_flag_with_dashes_and_the_spec_checks_it():
    assert flag("negative_slope") == "--negative-slope"
    args = parse("--depth", "7", "--activation", "relu", "--no-bias")
    spec = spec_from_args(args)
    assert spec == ModelSpec(depth=7, activation="relu", no_bias=True)
    assert spec_from_args(parse()) == ModelSpec()  # no flag: the spec's defaults


@pytest.mark.parametrize("argv, words", [
    (["--depth", "0"], "--depth must be"),
    (["--depth", "nan"], "--depth must be"),
    (["--activation", "<b>x</b>"], "--activation must be"),
    (["--width", "1024", "--depth", "150", "--batch-size", "2048"], "budget"),
])
def test_a_bad_value_is_one_usage_error_naming_the_flag(argv, words):
    with pytest.raises(UsageError) as error:
        spec_from_args(parse(*argv))
    assert words in str(error.value) and "\n" not in str(error.value)


def test_argparse_errors_are_usage_errors_not_exits():
    with pytest.raises(UsageError, match="--format"):
        parse("--format", "xml")


def test_only_the_fields_asked_for_become_flags():
    args = parse("--depth", "3", fields=("depth", "width"))
    assert not hasattr(args, "activation") and spec_from_args(
        args, fields=("depth", "width")).depth == 3


def test_emit_writes_inf_and_nan_as_text_in_json_and_csv():
    table = pd.DataFrame({"layer": [1, 2, 3], "value": [1.5, np.inf, np.nan]})
    out = io.StringIO()
    emit(table, "json", out)
    assert json.loads(out.getvalue()) == [{"layer": 1, "value": 1.5},
                                          {"layer": 2, "value": "inf"},
                                          {"layer": 3, "value": "nan"}]
    out = io.StringIO()
    emit(table.assign(value=[1 / 3, -np.inf, 2.0]), "csv", out)
    assert out.getvalue().splitlines() == ["layer,value", "1,0.333333333", "2,-inf",
                                           "3,2"]
    table.attrs["json"] = {"forensics": None}  # train's report travels beside the rows
    out = io.StringIO()
    emit(table, "json", out)
    assert set(json.loads(out.getvalue())) == {"rows", "forensics"}
