"""Phase diagram and Jacobian spectrum latency (issue 14, "Tests and performance").

Prints, measured in this one process:
- the 12 x 8 phase grid at depth 50, width 256 (core.experiments.phase.phase_grid, every
  point through core.per_layer's traced pass, unseen seeds), after the one-time trace;
- naive: a Keras functional model per point + an eager GradientTape
  (core.keras_model.naive_profile), timed on 3 points and multiplied by 96;
- one Jacobian spectrum at depth 50, width 256 (core.jacobian, after its trace) beside a
  Keras functional model + an eager tape.batch_jacobian.
Goals (issue 14): grid <= 3 s, spectrum <= 1 s.

Run: PYTHONPATH=. .venv/bin/python benchmarks/bench_phase.py
"""
import statistics
import time

import numpy as np

from core.experiments import phase
from core.jacobian import spectrum
from core.keras_model import build_keras_model, naive_profile
from core.spec import ModelSpec


def timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def naive_spectrum(spec: ModelSpec) -> np.ndarray:
    from core.tf_setup import tf
    from core.weights import make_data, make_weights
    model = build_keras_model(spec, make_weights(spec))
    x = tf.constant(make_data(spec)[0][:1])
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = model(x)[-1]
    return np.linalg.svd(tape.batch_jacobian(h, x)[0].numpy(), compute_uv=False)


def main() -> None:
    grid = phase.PhaseSpec(depth=50, width=256, seed=1)  # 12 x 8 by default
    trace = timed(phase.phase_grid, grid.replace(seed=99, sigma_w2=(1.0,), sigma_b2=(0.0,)))
    ours = timed(phase.phase_grid, grid)
    naive = [timed(naive_profile, grid.network(w, 0.05).replace(seed=50 + i), False)
             for i, w in enumerate((0.5, 1.0, 2.0))]
    print(f"phase grid: {grid.points} points, depth 50, width 256, batch {grid.batch_size}")
    print(f"  first point of the process (trace): {trace:.2f} s")
    print(f"  core.experiments.phase.phase_grid, unseen: {ours:.2f} s (goal <= 3 s)")
    print(f"  naive Keras model per point: {statistics.median(naive):.2f} s a point, "
          f"x {grid.points} = {statistics.median(naive) * grid.points:.1f} s "
          f"({statistics.median(naive) * grid.points / ours:.1f}x slower)")
    spec = ModelSpec(depth=50, width=256, batch_size=1, activation="tanh",
                     init="orthogonal")
    trace = timed(spectrum.uncached, spec.replace(seed=99))
    ours = [timed(spectrum.uncached, spec.replace(seed=i)) for i in range(5)]
    naive = [timed(naive_spectrum, spec.replace(seed=10 + i)) for i in range(2)]
    print("Jacobian spectrum: depth 50, width 256, tanh, orthogonal")
    print(f"  first call of the process (trace): {trace:.2f} s")
    print(f"  core.jacobian.spectrum, median of 5: {statistics.median(ours):.3f} s "
          f"(goal <= 1 s)")
    print(f"  naive Keras model + eager batch_jacobian, median of 2: "
          f"{statistics.median(naive):.2f} s")


if __name__ == "__main__":
    main()
