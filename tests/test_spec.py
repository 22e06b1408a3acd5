"""ModelSpec: defaults, bounds, budgets, and loose parsing from URLs (no TensorFlow)."""
import math

import pytest

from core.spec import MAX_WORK, ModelSpec, describe_field, parse_field


def parse_value(name, text):
    return parse_field(ModelSpec().field_map()[name], text)


def test_defaults_are_valid_and_hashable():
    spec = ModelSpec()
    assert spec.n_in == spec.width
    assert hash(spec) == hash(ModelSpec())


@pytest.mark.parametrize("field, value", [
    ("depth", 0), ("depth", 201), ("depth", 2.5), ("width", 1), ("batch_size", 0),
    ("activation", "softmax"), ("init", "zeros"), ("dtype", "float8"),
    ("input_std", 0.0), ("stddev", -1.0), ("gain", math.nan), ("gain", math.inf),
    ("negative_slope", 1.5), ("no_bias", "yes"), ("depth", True),
])
def test_bad_values_name_the_field_and_what_it_accepts(field, value):
    with pytest.raises(ValueError, match=f"^{field} must be"):
        ModelSpec(**{field: value})


def test_work_budget_admits_the_issue_size_and_rejects_more():
    spec = ModelSpec(depth=150, width=128, batch_size=256)
    assert spec.work == 150 * 128 * 128 * 256 <= MAX_WORK
    with pytest.raises(ValueError, match="work budget.*reduce depth, width or batch_size"):
        ModelSpec(depth=200, width=1024, batch_size=2048)
    with pytest.raises(ValueError, match="reduce depth or width"):
        ModelSpec(depth=200, width=1024, batch_size=1)


def test_parse_value_from_text():
    assert parse_value("depth", "50") == 50
    assert parse_value("depth", "50.0") == 50
    assert parse_value("gain", "1.5") == 1.5
    assert parse_value("residual", "true") is True
    assert parse_value("input_dim", "none") is None
    for name, text in [("depth", "abc"), ("gain", "nan"), ("gain", "1e999"),
                       ("activation", "<script>"), ("batch_norm", "maybe")]:
        with pytest.raises(ValueError, match=name):
            parse_value(name, text)


def test_each_field_says_what_it_accepts():
    fields = ModelSpec().field_map()
    assert describe_field(fields["depth"]) == "an integer from 1 to 200"
    assert describe_field(fields["residual"]) == "true or false"
    assert describe_field(fields["activation"]).startswith("one of linear, sigmoid")


def test_list_fields_take_tuples_check_each_value_and_parse_commas():
    from core.experiments.phase import PhaseSpec
    fields = PhaseSpec.field_map()
    assert parse_field(fields["sigma_w2"], "1, 2,0.5") == (1.0, 2.0, 0.5)
    assert PhaseSpec(sigma_w2=[2, 1, 2]).sigma_w2 == (1.0, 2.0)  # sorted, once each
    assert "comma-separated list of 1 to 24 values" in describe_field(fields["sigma_b2"])
    for text in ("", "1,abc", "0", "1,nan", "-1", ",".join(["1"] * 25)):
        with pytest.raises(ValueError, match="^sigma_w2 must be"):
            parse_field(fields["sigma_w2"], text)
    for bad in ((), 1.0, "1,2", (1.0, math.inf), (101.0,)):
        with pytest.raises(ValueError, match="^sigma_w2 must be"):
            PhaseSpec(sigma_w2=bad)
    assert hash(PhaseSpec()) == hash(PhaseSpec())
