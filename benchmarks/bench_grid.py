"""The Initialization page's grid: 6 inits x 6 activations, depth 50, width 128. Goal <= 3 s.

Prints, measured in this one process:
- naive: for every cell, a plain Keras functional model built layer by layer and
  differentiated with an eager tf.GradientTape (core.keras_model.naive_profile);
- ours, cold: core.experiments.initialization.grid the first time (traces one
  tf.function per activation, then runs each cell);
- ours, unseen: the grid for a seed never computed before, reusing the traces: what a
  user waits for after changing the depth on the page (a grid already seen comes
  from core.cache at once).

Run: PYTHONPATH=. .venv/bin/python benchmarks/bench_grid.py [--naive-cells 36]
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from core.experiments.initialization import (  # noqa: E402
    GRID_ACTIVATIONS, GRID_BATCH, GRID_INITS, grid)
from core.spec import ModelSpec  # noqa: E402

DEPTH, WIDTH = 50, 128


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--naive-cells", type=int, default=36,
                        help="cells of the naive baseline to time (36 = all)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from core.keras_model import naive_profile
    from core.tf_setup import tf  # noqa: F401  (import cost outside every timing)

    cells = [(i, a) for i in GRID_INITS for a in GRID_ACTIVATIONS]
    compute = grid.uncached  # time the computation, never core.cache
    cold, table = timed(compute, depth=DEPTH, width=WIDTH, seed=0)
    unseen = []
    for seed in range(1, args.repeats + 1):
        unseen.append(timed(compute, depth=DEPTH, width=WIDTH, seed=seed)[0])

    naive_cells = cells[:max(1, min(args.naive_cells, len(cells)))]
    start = time.perf_counter()
    for init, activation in naive_cells:
        naive_profile(ModelSpec(depth=DEPTH, width=WIDTH, batch_size=GRID_BATCH,
                                activation=activation, init=init))
    naive = (time.perf_counter() - start) * len(cells) / len(naive_cells)
    estimated = "" if len(naive_cells) == len(cells) else \
        f" (extrapolated from {len(naive_cells)} cells)"

    print(f"grid: {len(GRID_INITS)} inits x {len(GRID_ACTIVATIONS)} "
          f"activations, depth {DEPTH}, width {WIDTH}, batch {GRID_BATCH}")
    print(f"naive per-cell Keras model + eager tape: {naive:7.2f} s{estimated}")
    print(f"ours, cold (6 traces + 36 cells):         {cold:7.2f} s")
    print(f"ours, unseen (traces reused), best of {args.repeats}: {min(unseen):7.2f} s "
          f"(all: {', '.join(f'{t:.2f}' for t in unseen)})")
    print(f"speed-up unseen vs naive: {naive / min(unseen):.1f}x; goal <= 3 s: "
          f"{'met' if min(unseen) <= 3.0 else 'NOT met'}")
    print(f"healthy cells: {int((table.verdict == 'healthy').sum())} of {len(table)}")


if __name__ == "__main__":
    main()
