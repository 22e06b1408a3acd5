"""Finite width: 100 seeds of one network (issue 14, "Tests and performance").

Prints, measured in this one process:
- 100 seeds of ReLU + He, depth 50, width 128, one input (core.finite_width.measure,
  unseen seeds, after the one-time trace): every seed's weights drawn by Keras' seeded
  initializers, exactly as core.per_layer draws them, then one batched pass per chunk;
- naive: a Keras functional model per seed + an eager GradientTape
  (core.keras_model.build_keras_model on the same weights), timed on 5 seeds and
  multiplied by 100, with the largest difference between the two gains' results.
Goal (issue 14): 100 seeds <= 3 s. The CPU time and the load average are printed too:
the Keras draws (truncated normals, about 80 million) are most of the work, so on a
shared machine the wall time follows the load.

Run: PYTHONPATH=. .venv/bin/python benchmarks/bench_seeds.py
"""
import os
import time

import numpy as np

from core.finite_width import FiniteWidthSpec, measure
from core.keras_model import build_keras_model
from core.spec import ModelSpec

NAIVE_SEEDS = 5


def naive_gains(spec: ModelSpec) -> tuple[float, float]:
    """(forward gain, backward gain) of one seed: a Keras model and an eager tape."""
    from core.tf_setup import tf
    from core.weights import make_data, make_weights
    model = build_keras_model(spec, make_weights(spec))
    x, targets = make_data(spec)
    with tf.GradientTape() as tape:
        prediction, *hidden = model(tf.constant(x))
        loss = tf.reduce_mean(tf.square(prediction - targets))
    first, last = tape.gradient(loss, [hidden[0], hidden[-1]])
    return (float(np.linalg.norm(hidden[-1]) / np.linalg.norm(x)),
            float(np.linalg.norm(first) / np.linalg.norm(last)))


def main() -> None:
    spec = FiniteWidthSpec(seeds=100, depth=50, width=128, seed=1000)
    start = time.perf_counter()
    measure.uncached(spec.replace(seeds=2, seed=99_000))
    trace = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    ours = measure.uncached(spec)["seeds"]
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    naive = [naive_gains(spec.network(seed)) for seed in range(spec.seed,
                                                              spec.seed + NAIVE_SEEDS)]
    naive_each = (time.perf_counter() - start) / NAIVE_SEEDS
    forward, backward = np.array(naive).T
    difference = max(np.max(np.abs(ours["forward_gain"][:NAIVE_SEEDS] / forward - 1)),
                     np.max(np.abs(ours["backward_gain"][:NAIVE_SEEDS] / backward - 1)))
    print("seeds: 100 networks, ReLU + He, depth 50, width 128, one input")
    print(f"  first call of the process (trace): {trace:.2f} s")
    print(f"  core.finite_width.measure, unseen seeds: {seconds:.2f} s (goal <= 3 s); "
          f"{cpu:.2f} s of CPU on {os.cpu_count()} cores (load average now "
          f"{os.getloadavg()[0]:.1f})")
    print(f"  naive Keras model per seed: {naive_each:.2f} s a seed, x 100 = "
          f"{naive_each * 100:.1f} s ({naive_each * 100 / seconds:.1f}x slower)")
    print(f"  largest relative difference between the two, {NAIVE_SEEDS} seeds: "
          f"{difference:.1e}")


if __name__ == "__main__":
    main()
