"""Per-layer profile latency: depth 150, width 128, batch 256 (issue: foundation, part 7).

Prints, measured in this one process:
- naive: a Keras functional model built per configuration + an eager GradientTape;
- ours, unseen: core.per_layer on configurations never seen before (new seeds), after
  the one-time trace of the activation's graph (printed separately);
- ours, seen: core.per_layer on a configuration already computed (the LRU cache).
Goals: unseen median <= 0.3 s, seen <= 0.05 s.

Run: PYTHONPATH=. .venv/bin/python benchmarks/bench_profile.py [--repeats 7]
"""
import argparse
import statistics
import time

from core.keras_model import naive_profile
from core.per_layer import profile
from core.spec import ModelSpec


def timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    repeats = parser.parse_args().repeats
    base = ModelSpec(depth=150, width=128, batch_size=256, activation="tanh",
                     init="glorot_normal")
    trace = timed(profile, base.replace(seed=10_000))
    naive = [timed(naive_profile, base.replace(seed=20_000 + i), False) for i in range(3)]
    unseen = [timed(profile, base.replace(seed=i, init=("glorot_normal", "he_normal",
                                                        "orthogonal")[i % 3]))
              for i in range(repeats)]
    seen = [timed(profile, base.replace(seed=0)) for _ in range(repeats)]
    print("configuration: depth 150, width 128, batch 256, tanh, float32")
    print(f"naive Keras (functional model + eager tape), median of 3: "
          f"{statistics.median(naive):.3f} s")
    print(f"core.per_layer first call of this activation (trace, once per process): "
          f"{trace:.3f} s")
    print(f"core.per_layer unseen configuration, median of {repeats}: "
          f"{statistics.median(unseen):.3f} s  (goal <= 0.3 s; "
          f"{statistics.median(naive) / statistics.median(unseen):.1f}x faster than naive)")
    print(f"core.per_layer seen configuration, median of {repeats}: "
          f"{statistics.median(seen) * 1000:.2f} ms  (goal <= 50 ms)")


if __name__ == "__main__":
    main()
