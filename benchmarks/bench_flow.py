"""core.flow on the zoo beside the naive way, in one process (issue 13, section 6).

1. keras.applications' ResNet50 at 64x64, batch 4:
   - naive: build the model (core.zoo.build) and run one eager tf.GradientTape over
     `model(x, training=True)` with the gradients of every trainable weight (no
     per-layer numbers at all): first pass and warm pass;
   - the app (core.zoo's flow_of, its cache bypassed): build + the first flow (goal
     <= 5 s), then the same model with a new seed (goal <= 1.5 s), the weights drawn into
     the kept model (core.reseed) instead of a new build.
2. Post-LN and Pre-LN Transformers, 12 blocks x d_model 128 (seq 16, batch 8): a new
   configuration of a family the process has already measured (here at 6 blocks):
   the app's build + flow (goal <= 2 s) beside the naive build + eager tape.
3. Memory (--memory, in a fresh child process): resident memory after measuring
   ResNet50 (64 px), DenseNet121 (64 px) and a 24-block Transformer in turn (goal
   <= 2.0 GB), as the server's would be.

Run: PYTHONPATH=. .venv/bin/python benchmarks/bench_flow.py [--memory]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def rss_gb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 2 ** 20
    return float("nan")


def naive(spec) -> tuple:
    """(build, first pass, warm pass) seconds: a plain eager tape over the model."""
    from core.tf_setup import tf
    from core.zoo import build
    start = time.perf_counter()
    model = build(spec)
    built = time.perf_counter()
    x = tf.random.normal((spec.batch_size,) + tuple(model.inputs[0].shape[1:]))
    passes = []
    for _ in range(2):
        begin = time.perf_counter()
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True)))
        tape.gradient(loss, model.trainable_weights)
        passes.append(time.perf_counter() - begin)
    return built - start, passes[0], passes[1]


def app(spec) -> float:
    """Seconds of the app's uncached flow of `spec` (build or reseed, then flow)."""
    from core import zoo
    start = time.perf_counter()
    zoo._flow(spec, None)
    return time.perf_counter() - start


def memory_child() -> None:
    from core import zoo
    from core.tf_setup import tf  # noqa: F401
    figures = {"start": rss_gb()}
    for name, spec in (
            ("resnet50", zoo.ZooSpec(architecture="resnet50", image_size=64, batch_size=4)),
            ("densenet121", zoo.ZooSpec(architecture="densenet121", image_size=64,
                                        batch_size=4)),
            ("transformer_pre_ln_24", zoo.ZooSpec(architecture="transformer_pre_ln",
                                                  blocks=24, d_model=128))):
        zoo.flow_of(spec)
        figures[name] = rss_gb()
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", action="store_true", help="also the memory figure")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return memory_child()
    with open("/proc/loadavg") as load:
        print(f"load average: {' '.join(load.read().split()[:3])} on {os.cpu_count()} cores")
    from core.tf_setup import tf  # noqa: F401  (import cost outside every timing)
    from core.zoo import ZooSpec, forget_models
    resnet = ZooSpec(architecture="resnet50", image_size=64, batch_size=4)
    build, first, warm = naive(resnet)
    print(f"ResNet50 64x64 batch 4, naive eager tape: build {build:.2f} s, first pass "
          f"{first:.2f} s, warm pass {warm:.2f} s; build + first {build + first:.2f} s")
    forget_models()
    first_flow = app(resnet)
    new_seed = app(resnet.replace(seed=1))
    print(f"  app: build + first flow {first_flow:.2f} s (goal <= 5), new seed "
          f"{new_seed:.2f} s (goal <= 1.5; naive rebuild + pass {build + warm:.2f} s)")
    for architecture in ("transformer_post_ln", "transformer_pre_ln"):
        family = ZooSpec(architecture=architecture, blocks=6, d_model=128)
        app(family)  # the family measured once before
        spec = family.replace(blocks=12, seed=1)
        build, first, warm = naive(spec)
        print(f"{architecture} 12 x 128, new configuration: app build + flow "
              f"{app(spec):.2f} s (goal <= 2); naive build {build:.2f} s + first pass "
              f"{first:.2f} s = {build + first:.2f} s (warm pass {warm:.2f} s)")
    if args.memory:
        out = subprocess.run([sys.executable, __file__, "--child"], capture_output=True,
                             text=True, check=True)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        print("resident memory of a fresh process (GB): " + ", ".join(
            f"{name} {value:.2f}" for name, value in figures.items()) +
            " (goal <= 2.0 after all three)")


if __name__ == "__main__":
    main()
