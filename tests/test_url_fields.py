"""core/url_fields.py: a URL parameter read against its control's own options and
bounds, with a warning that names the parameter, the value sent and the value used."""
import pytest

from core.url_fields import (as_text, bool_field, option_field, range_field,
                             text_field)


def test_markup_and_backticks_are_shown_as_text_and_cut():
    assert as_text("<b>x</b>") == "`<b>x</b>`"
    assert as_text("a`b\nc") == "`a'b c`"  # cannot close the code span or break a line
    assert as_text("x" * 50) == "`" + "x" * 40 + "...`"
    assert as_text("x" * 50, None) == "`" + "x" * 50 + "`"


def test_a_range_in_steps_snaps_to_the_nearest_step_and_says_so():
    depth = range_field("depth", 50, 1, 150, None)
    assert depth.read(["80"], 50) == (80, [])
    value, notes = depth.read(["80.5"], 50)  # an integer slider
    assert value == 50 and "not usable" in notes[0] and "Using `50`" in notes[0]
    gain = range_field("gain", 1.5, 0.0, 2.0, 0.05)
    value, notes = gain.read(["0.53"], 1.5)
    assert value == pytest.approx(0.55) and "nearest step" in notes[0]
    assert "Using `0.55`" in notes[0] and "`gain`" in notes[0]


@pytest.mark.parametrize("text", ["3", "-1", "nan", "inf", "-inf", "abc", "", "1e999"])
def test_out_of_range_and_non_numbers_keep_the_fallback(text):
    gain = range_field("gain", 1.5, 0.0, 2.0, 0.05)
    value, notes = gain.read([text], 1.5)
    assert value == 1.5 and len(notes) == 1
    assert "a number from 0 to 2 in steps of 0.05" in notes[0] and "Using `1.5`" in notes[0]


def test_every_value_of_a_repeated_parameter_is_checked():
    depth = range_field("depth", 50, 1, 150, None)
    value, notes = depth.read(["bogus", "80"], 50)
    assert value == 80  # the last usable one
    assert any("bogus" in note for note in notes)
    assert "given 2 times" in notes[-1] and notes[-1].endswith("Using `80`.")


def test_an_off_grid_option_uses_the_nearest_and_names_it():
    stddev = option_field("stddev", 0.05, [0.01, 0.05, 0.1, 0.5, 1.0])
    value, notes = stddev.read(["0.03"], 0.05)
    assert value in (0.01, 0.05) and "nearest" in notes[0]
    assert f"Using `{value:g}`" in notes[0]
    assert stddev.read(["0.1"], 0.05) == (0.1, [])
    assert stddev.read(["7"], 0.05)[0] == 0.05  # beyond the options: not usable


def test_a_multiselect_checks_each_value_its_limit_and_duplicates():
    inits = option_field("inits", ["glorot_normal"], ["glorot_normal", "he_normal",
                                                      "lecun_normal", "orthogonal",
                                                      "zeros"], many=4)
    value, notes = inits.read(["bogus", "he_normal"], ["glorot_normal"])
    assert value == ["he_normal"] and "`bogus` is not one of" in notes[0]
    value, notes = inits.read(["he_normal", "he_normal"], ["glorot_normal"])
    assert value == ["he_normal"] and "given twice" in notes[0]
    five = ["glorot_normal", "he_normal", "lecun_normal", "orthogonal", "zeros"]
    value, notes = inits.read(five, ["glorot_normal"])
    assert value == five[:4] and "at most 4 can be chosen, and 5 were given" in notes[0]
    assert inits.encode(value) == five[:4]


def test_booleans_and_checked_text():
    flag = bool_field("residual", False)
    assert flag.read(["true"], False) == (True, [])
    assert flag.read(["maybe"], False)[0] is False
    size = text_field("sizes", "1,2", lambda text: [int(x) for x in text.split(",")],
                      "integers separated by commas", "1,2")
    assert size.read(["3,4"], [1, 2]) == ([3, 4], [])
    value, notes = size.read(["3,x"], [1, 2])
    assert value == [1, 2] and "integers separated by commas" in notes[0]
