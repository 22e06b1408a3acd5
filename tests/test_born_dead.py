"""core.born_dead: measured over Keras-drawn networks against 1 - (1 - 2^-n)^L."""
import math

import numpy as np
import pytest

from core import born_dead as bd
from core.born_dead import BornDeadSpec


def test_theory_closed_form():
    assert bd.theory_fraction(1, 1) == pytest.approx(0.5)
    assert bd.theory_fraction(2, 3) == pytest.approx(1 - 0.75 ** 3)
    assert bd.theory_fraction(64, 10) == pytest.approx(10 * 2.0 ** -64, rel=1e-9)


@pytest.mark.parametrize("width, depth", [(3, 10), (6, 50), (10, 100)])
def test_measured_fraction_matches_theory_within_four_standard_errors(width, depth):
    row = bd.born_dead(BornDeadSpec(width=width, depth=depth, seeds=4000)).iloc[0]
    theory = bd.theory_fraction(width, depth)
    error = math.sqrt(theory * (1 - theory) / 4000)
    assert abs(row.measured_fraction - theory) < 4 * error + 1e-9
    assert row.theory_fraction == pytest.approx(theory)
    assert row.dead_count == round(row.measured_fraction * 4000)


def test_dead_layers_are_really_all_zero_and_stay_zero():
    """The first dead layer of each network, checked by a plain numpy forward pass."""
    spec = BornDeadSpec(width=3, depth=12, seeds=300, init="glorot_uniform")
    first = bd.dead_layers(spec)
    assert (first > 0).any() and (first == 0).any()
    kernels, inputs = bd.draw(spec)
    kernels = np.asarray(kernels, dtype=np.float64)
    for network in range(spec.seeds):
        h, expected = inputs[network].astype(np.float64), 0
        for layer in range(spec.depth):
            h = np.maximum(h @ kernels[network, layer], 0.0)
            if expected == 0 and not (h > 0).any():
                expected = layer + 1
        assert first[network] == expected, network
    # each slice has Glorot's fans (n, n): Var = 1 / n
    assert kernels.var() == pytest.approx(1 / 3, rel=0.05)


def test_budget_and_bad_values():
    with pytest.raises(ValueError, match="budget"):
        BornDeadSpec(width=64, depth=1000, seeds=100_000)
    with pytest.raises(ValueError, match="^init must be"):
        BornDeadSpec(init="orthogonal")
    with pytest.raises(ValueError, match="^width must be"):
        BornDeadSpec(width=0)


def test_over_widths_is_one_row_per_width():
    table = bd.over_widths(BornDeadSpec(depth=20, seeds=200), widths=(1, 2, 8))
    assert list(table.width) == [1, 2, 8]
    assert table.measured_fraction.iloc[0] > 0.98  # theory 1 - 2^-20
    assert np.all(np.diff(table.theory_fraction) < 0)


def test_safe_width_and_text():
    assert bd.safe_width(50) == 13  # 1 - (1 - 2^-13)^50 = 0.6%, width 12: 1.2%
    assert bd.theory_fraction(12, 50) > 0.01 > bd.theory_fraction(13, 50)
    table = bd.over_widths(BornDeadSpec(depth=50, seeds=200), widths=(1, 6, 12))
    text = bd.born_dead_text(table)
    assert text.startswith("At depth 50: 100% of width-1 networks")
    assert "width 13" in text and "width-6" in text
