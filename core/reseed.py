"""A built Keras model, given the weights a fresh build with another seed would draw.

Building keras.applications' ResNet50 takes longer than measuring it, so the zoo keeps
the models it built and, for a new seed, draws new weights into the same variables
instead of building again. The numbers must be exactly those of a fresh build:

- Keras 3 gives every initializer built without a seed its own integer seed when the
  initializer is made, `randint(1, 10**9)` from Python's `random`, which core.zoo.build
  seeds with the spec's seed for the duration of the build. Every variable is then
  `initializer(shape, dtype)`, a stateless draw from that integer.
- `Reseeder` finds each variable's initializer on the layer that owns it (`kernel` ->
  `kernel_initializer`, `depthwise_kernel` -> `depthwise_initializer`, ...) and the
  position of its integer seed in the sequence Python's `random` gave for the build's
  seed. For another seed it takes the integer at the same position of that seed's
  sequence and draws the variable again with it.
- Variables whose initializer draws nothing (zeros, ones, batch norm's statistics, an
  LSTM's forget-gate bias) or has an explicit integer seed keep their values. If any
  random initializer cannot be placed (a seed generator, a draw the sequence does not
  explain, an EinsumDense kernel, drawn with a copy of its initializer given axes:
  MultiHeadAttention's), the model is not reseedable and the caller builds it again.

tests/test_reseed.py checks, variable by variable, that a reseeded model equals a
fresh build for every zoo architecture.
"""
from __future__ import annotations

import math
import random

from .tf_setup import keras
from .weights import drawing_pool

SEED_RANGE = (1, int(1e9))  # keras.src.random.seed_generator.make_default_seed's draw


def seed_sequence(seed: int, length: int) -> list[int]:
    """The integer seeds Keras' unseeded initializers draw, in order, after
    random.seed(seed)."""
    rng = random.Random(seed)
    return [rng.randint(*SEED_RANGE) for _ in range(length)]


def name_of(variable) -> str:
    return variable.name.split("/")[-1]


def _initializer(layer, variable):
    """The initializer object that made `variable` on `layer`, or None."""
    name = name_of(variable)
    for attribute in (f"{name}_initializer", name.replace("_kernel", "") + "_initializer",
                      "depthwise_initializer" if name == "kernel" else ""):
        found = getattr(layer, attribute, None)
        if isinstance(found, keras.initializers.Initializer):
            return found
    return None


class Reseeder:
    """Draws the weights of `model` (built after random.seed(`seed`)) for other seeds.

    `ok` is False when some random initializer could not be placed; `reseed` then
    refuses (returns False)."""

    def __init__(self, model, seed: int):
        self.model, self.seed = model, seed
        variables = [(layer, variable) for layer in model._flatten_layers()
                     for variable in layer._trainable_variables +
                     layer._non_trainable_variables]
        self.length = 8 * len(variables) + 256
        position = {value: index for index, value in
                    reversed(list(enumerate(seed_sequence(seed, self.length))))}
        self.slots, self.ok = [], True
        for layer, variable in variables:
            initializer = _initializer(layer, variable)
            drawn = getattr(initializer, "seed", None)
            if drawn is None and initializer is not None and \
                    not hasattr(initializer, "_init_seed"):
                continue  # zeros, ones, constant: nothing drawn
            if initializer is None:
                self.ok = self.ok and not _may_be_random(variable)
                continue
            if hasattr(layer, "_update_kernel_initializer") and name_of(variable) == \
                    "kernel" and getattr(initializer, "input_axes", 0) is None:
                self.ok = False  # EinsumDense drew with a copy given its axes
                continue
            chosen = getattr(initializer, "_init_seed", None)
            if isinstance(chosen, int):
                continue  # an explicit seed: every build draws the same
            if chosen is not None or not isinstance(drawn, int) or drawn not in position:
                self.ok = False
                continue
            self.slots.append((variable, initializer, position[drawn]))

    def reseed(self, seed: int) -> bool:
        """Give the model the weights a build with `seed` draws; False if it cannot."""
        if not self.ok:
            return False
        if seed != self.seed:
            sequence = seed_sequence(seed, self.length)

            def draw(slot):
                variable, initializer, index = slot
                config = {**initializer.get_config(), "seed": sequence[index]}
                fresh = type(initializer).from_config(config)
                variable.assign(fresh(tuple(variable.shape), dtype=variable.dtype))
            # largest first, on two threads (benchmarks/bench_flow.py: new seed)
            slots = sorted(self.slots, key=lambda slot: -math.prod(slot[0].shape))
            list(drawing_pool().map(draw, slots))
            self.seed = seed
        return True


def _may_be_random(variable) -> bool:
    """A variable with no initializer found on its layer: only the known deterministic
    ones (batch norm's moving statistics, a normalization's counts, a seed generator's
    state) are safe to keep."""
    return name_of(variable) not in ("moving_mean", "moving_variance", "mean", "variance", "count",
                        "seed_generator_state", "iterations")
