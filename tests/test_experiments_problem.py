"""core.experiments.problem: the identity network W = a * I and its exact theory."""
import numpy as np
import pandas as pd
import pytest

from core.experiments.problem import chart_data, identity_spec, theory_lines


def test_identity_spec_is_a_linear_net_without_bias():
    spec = identity_spec(20, 0.5, "float64", seed=3)
    assert (spec.depth, spec.gain, spec.dtype, spec.seed) == (20, 0.5, "float64", 3)
    assert spec.activation == "linear" and spec.init == "identity" and spec.no_bias


def test_theory_lines_are_powers_of_the_gain():
    table = pd.DataFrame({"layer": [1, 2, 3], "signal_grad_norm": [9.0, 3.0, 2.0],
                          "activation_norm": [1.0, 1.0, 1.0]})
    theory = theory_lines(table, 1.5, input_norm=2.0)
    np.testing.assert_allclose(theory.forward, 2.0 * 1.5 ** np.array([1, 2, 3]))
    np.testing.assert_allclose(theory.backward, 2.0 * 1.5 ** np.array([2, 1, 0]))
    data = chart_data(table, 1.5, 2.0)
    assert list(dict.fromkeys(data["forward"].series)) == ["measured ||h_l||",
                                                           "theory: 1.5^l * ||x||"]
    assert set(data["backward"].kind) == {"measured", "theory"}


def test_measured_identity_net_equals_its_theory():
    from core.per_layer import profile
    table = profile(identity_spec(10, 1.5, "float64"))
    theory = theory_lines(table, 1.5, table.attrs["input_norm"])
    np.testing.assert_allclose(table.activation_norm, theory.forward, rtol=1e-9)
    np.testing.assert_allclose(table.signal_grad_norm, theory.backward, rtol=1e-9)
    assert table.attrs["input_norm"] == pytest.approx(theory.forward[0] / 1.5)


def test_a_pinned_setting_is_drawn_from_its_own_measured_table():
    from core.per_layer import profile
    table, pinned = profile(identity_spec(10, 1.5)), profile(identity_spec(10, 0.5))
    data = chart_data(table, 1.5, table.attrs["input_norm"],
                      pinned=("a = 0.5, L = 10, float32", pinned))
    for name, column in (("forward", "activation_norm"), ("backward", "signal_grad_norm")):
        rows = data[name][data[name].group == "pinned: a = 0.5, L = 10, float32"]
        assert set(rows.kind) == {"measured"}
        np.testing.assert_array_equal(rows.value, pinned[column])
        assert set(data[name].group) == {"a = 1.5", "pinned: a = 0.5, L = 10, float32"}
    assert "group" in chart_data(table, 1.5, 1.0)["forward"]  # measured and theory: one colour


def test_format_limits_theory_matches_the_measured_float16_overflow_and_underflow():
    from core.experiments.problem import INF_FROM, NEVER, ZERO_FROM, format_limits
    from core.per_layer import compute_profile
    exploding = format_limits(40, 1.5).set_index("format")
    assert exploding.loc["float16", INF_FROM] == "19"
    assert exploding.loc["float16", "largest (inf above)"] == "65504"
    assert exploding.loc["float32", INF_FROM] == NEVER
    measured = compute_profile(identity_spec(40, 1.5, "float16"))
    assert measured["activation_norm"].map(np.isinf).idxmax() + 1 == 19
    vanishing = format_limits(150, 0.5).set_index("format")[ZERO_FROM]
    assert vanishing.tolist() == ["27", "128", "128", NEVER]  # float16 keeps subnormals
    assert (format_limits(10, 0.0)[ZERO_FROM] == NEVER).all()  # multiplied by zero
