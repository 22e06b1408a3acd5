"""Through-time profile latency: T = 200 steps, 64 units (issue 6). Goal: <= 1 s unseen.

Prints, measured in this one process, for each cell (SimpleRNN, LSTM, GRU):
- naive: the real keras.layers cell called step by step in eager mode under a
  GradientTape, differentiated with respect to every state it returned
  (core.recurrent_keras.keras_reference_profile);
- ours, trace: the first call for that cell type (traces the tf.function once);
- ours, unseen: configurations never computed before (new seeds, gains, forget biases),
  reusing the trace: this is what a user waits for after moving a slider;
- ours, seen: a configuration already computed (core.cache's LRU).

Run: PYTHONPATH=. .venv/bin/python benchmarks/bench_through_time.py [--repeats 5]
"""
import argparse
import statistics
import time

import numpy as np

from core import through_time as tt
from core.recurrent_keras import keras_reference_profile


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    print("configuration: T = 200 steps, 64 units, 8 input features, batch 32, tanh, float32")
    print(f"{'cell':10}{'naive eager Keras':>20}{'ours: trace':>14}{'ours: unseen':>15}"
          f"{'ours: seen':>12}{'speed-up':>10}")
    # Warm up TensorFlow itself (first eager op, first tf.function) on a configuration
    # of another dtype, so that neither side below pays the process's one-time costs.
    tiny = tt.ThroughTimeSpec(steps=3, units=4, dtype="float64")
    keras_reference_profile(tiny)
    tt.through_time(tiny)
    worst = 0.0
    for cell in tt.CELLS:
        base = tt.ThroughTimeSpec(cell=cell, steps=200, units=64)
        naive_time, naive = timed(keras_reference_profile, base.replace(seed=900))
        trace_time, _ = timed(tt.through_time, base.replace(seed=1000))
        unseen = []
        for index in range(repeats):
            spec = base.replace(seed=index + 1, gain=round(0.8 + 0.1 * index, 2),
                                forget_bias=float(index % 4))
            unseen.append(timed(tt.through_time, spec)[0])
        fast = tt.through_time(base.replace(seed=900))
        assert np.allclose(fast["signal_grad_norm"], naive["signal_grad_norm"], rtol=1e-3)
        seen = statistics.median(timed(tt.through_time, base.replace(seed=1))[0]
                                 for _ in range(repeats))
        median = statistics.median(unseen)
        worst = max(worst, max(unseen))
        print(f"{tt.CELL_NAMES[cell]:10}{naive_time:>19.2f}s{trace_time:>13.2f}s"
              f"{median:>14.3f}s{seen:>11.4f}s{naive_time / median:>9.0f}x")
    print(f"slowest unseen configuration: {worst:.3f} s (goal <= 1 s): "
          f"{'met' if worst <= 1.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
