"""core/phase_pass.py: many phase-diagram points in one batched pass, each point equal
to core.per_layer's pass on that point's own network."""
import numpy as np
import pytest

from core.experiments import phase
from core.experiments.phase import PhaseSpec
from core.per_layer import profile
from core.phase_pass import signal_ends

SMALL = PhaseSpec(depth=20, width=128, batch_size=16, sigma_w2=(0.5, 1.0, 2.0, 3.0),
                  sigma_b2=(0.0, 0.05, 0.5))


def test_each_point_has_the_signal_norms_of_its_own_network():
    """Both ends of the signal, not only their ratio: ||dLoss/dh_1|| and ||dLoss/dh_L||
    of every (sigma_w2, sigma_b2) point against core.per_layer on spec.network(...)."""
    spec = SMALL.replace(activation="tanh")
    weights, data = phase._unit_draw(spec.depth, spec.width, spec.batch_size, spec.seed)
    points = [(0.5, 0.0), (1.0, 0.05), (2.0, 0.5), (4.0, 0.0)]
    first, last = signal_ends("tanh", weights, data, [w for w, _ in points],
                              [b for _, b in points])
    for (sigma_w2, sigma_b2), one, top in zip(points, first, last):
        signal = profile(spec.network(sigma_w2, sigma_b2))["signal_grad_norm"]
        assert one == pytest.approx(signal.iloc[0], rel=2e-4), (sigma_w2, sigma_b2)
        assert top == pytest.approx(signal.iloc[-1], rel=2e-4), (sigma_w2, sigma_b2)


def test_points_do_not_interact():
    """A point's norms are the same alone as beside others in the batch."""
    weights, data = phase._unit_draw(10, 64, 8, 0)
    together = signal_ends("relu", weights, data, [0.5, 2.0, 8.0], [0.1, 0.1, 0.1])
    alone = signal_ends("relu", weights, data, [2.0], [0.1])
    np.testing.assert_allclose([together[0][1], together[1][1]], [alone[0][0], alone[1][0]],
                               rtol=1e-5)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_batched_pass_is_core_per_layer_at_every_point(activation):
    spec = SMALL.replace(activation=activation, sigma_w2=(0.5, 1.0, 2.0, 3.0, 4.0))
    for sigma_b2 in (0.0, 0.5):
        rows = phase.measured_row.uncached(spec, sigma_b2)
        for sigma_w2, row in zip(spec.sigma_w2, rows):
            reference = phase.measured_point(spec.network(sigma_w2, sigma_b2))
            assert row["measured_log10_ratio"] == pytest.approx(
                reference["measured_log10_ratio"], rel=1e-4, abs=1e-4), (sigma_w2, sigma_b2)


def test_batched_pass_in_chunks_is_the_same(monkeypatch):
    spec = SMALL.replace(sigma_w2=(0.5, 1.0, 2.0))
    whole = phase.measured_row.uncached(spec, 0.05)
    monkeypatch.setattr(phase, "CHUNK_FLOATS", 1)  # one point per pass
    pieces = phase.measured_row.uncached(spec, 0.05)
    for a, b in zip(whole, pieces):
        assert a["measured_ratio"] == pytest.approx(b["measured_ratio"], rel=1e-6)
