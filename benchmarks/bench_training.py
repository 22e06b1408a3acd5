"""Benchmark: recording every layer at every step vs plain keras Model.fit.

Both sides train the same network (same layers, same initial weights, same optimizer),
on the same data, for the same steps and batch size, in the same process; each time
covers the whole run: building the model, tracing, every step. Run from the repo root:

    PYTHONPATH=. .venv/bin/python benchmarks/bench_training.py [--depth 20 --width 64]
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def plain_fit(model_spec, training_spec) -> float:
    """Seconds for keras Model.fit on the same network, data, steps and batch."""
    from core import datasets
    from core.tf_setup import keras
    from core.network import Network, make_optimizer
    from core.training import batch_order, training_model_spec
    started = time.perf_counter()
    data = datasets.load(training_spec.dataset, training_spec.seed, model_spec.dtype)
    spec = training_model_spec(model_spec, training_spec, data.features)
    network = Network(spec, data.classes)
    network.model.compile(optimizer=make_optimizer(training_spec),
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          metrics=["accuracy"])
    order = batch_order(len(data.y_train), training_spec.batch_size, training_spec.steps,
                        training_spec.seed).reshape(-1)
    network.model.fit(data.x_train[order], data.y_train[order],
                      batch_size=training_spec.batch_size, epochs=1, shuffle=False,
                      verbose=0)
    return time.perf_counter() - started


def recorded(model_spec, training_spec) -> tuple[float, object]:
    from core.training import train
    started = time.perf_counter()
    table = train(model_spec, training_spec)
    return time.perf_counter() - started, table


def main() -> None:
    from core.summary import summarize_run
    from core.training import DEFAULT_MODEL, TrainingSpec
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    model_spec = DEFAULT_MODEL.replace(depth=args.depth, width=args.width)
    training_spec = TrainingSpec(steps=args.steps, batch_size=args.batch_size,
                                 eval_every=args.steps)
    import core.tf_setup  # noqa: F401  (import TensorFlow before any timing)
    print(f"network {args.depth} x {args.width} relu he_normal, digits, SGD, "
          f"{args.steps} steps of batch {args.batch_size}")
    # Cold: the first of each in this process (TensorFlow's one-time set-up is paid by
    # whichever runs first: model.fit here). Reported, not counted in the median.
    cold_fit = plain_fit(model_spec, training_spec)
    cold_record, _ = recorded(model_spec, training_spec)
    print(f"cold (first in process): model.fit {cold_fit:.2f} s, core.train "
          f"{cold_record:.2f} s")
    fits, records = [], []
    for repeat in range(args.repeats):
        fits.append(plain_fit(model_spec, training_spec))
        seconds, table = recorded(model_spec, training_spec)
        records.append(seconds)
        print(f"run {repeat + 1}: model.fit {fits[-1]:.2f} s, core.train (every layer, "
              f"every step) {seconds:.2f} s, ratio {seconds / fits[-1]:.2f}")
    print(f"median: model.fit {np.median(fits):.2f} s, core.train {np.median(records):.2f} s, "
          f"ratio {np.median(records) / np.median(fits):.2f} (goal <= 1.5)")
    result = summarize_run(table)
    print(f"core.train recorded {len(table)} rows; test accuracy "
          f"{result['final_test_accuracy']:.3f}")


if __name__ == "__main__":
    main()
