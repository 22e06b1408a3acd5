"""core.flow on keras.applications' ResNet50 (64x64, batch 4) beside the naive way.

Prints, in one process: building the zoo model, the first flow, and a new seed (build +
flow); beside them the naive baseline, one eager tf.GradientTape over `model(x)` with
gradients of every trainable weight (no per-layer signal at all).

Run: PYTHONPATH=. .venv/bin/python benchmarks/bench_flow.py [--architecture resnet50]
     [--image-size 64] [--batch-size 4]
"""
from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architecture", default="resnet50")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()
    from core.flow import flow
    from core.tf_setup import tf
    from core.zoo import ZooSpec, build
    spec = ZooSpec(architecture=args.architecture, image_size=args.image_size,
                   batch_size=args.batch_size)
    for seed in (0, 1):
        start = time.perf_counter()
        model = build(spec.replace(seed=seed))
        built = time.perf_counter()
        table = flow(model, batch_size=spec.batch_size, seed=seed)
        done = time.perf_counter()
        print(f"{spec.describe()} seed {seed}: build {built - start:.2f} s, flow "
              f"{done - built:.2f} s, total {done - start:.2f} s ({len(table)} layers)")
    x = tf.random.normal((spec.batch_size,) + tuple(model.inputs[0].shape[1:]))
    for attempt in ("first", "warm"):
        start = time.perf_counter()
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True)))
        tape.gradient(loss, model.trainable_weights)
        print(f"naive eager tape ({attempt}): {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
