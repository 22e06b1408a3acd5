"""Training data, nothing downloaded: scikit-learn's bundled digits and 2-D toy sets.

Every loader is a pure function of the seed and returns a `Dataset` with a stratified
held-out split. The 2-D sets are generated here with numpy (same recipes as
scikit-learn's make_moons / make_circles, and the classic two spirals and XOR).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DATASETS = ("digits", "moons", "circles", "spirals", "xor")
DESCRIPTIONS = {
    "digits": "8x8 handwritten digits (scikit-learn's bundled copy of the UCI set): "
              "1,797 images, 64 pixels scaled to [0, 1], 10 classes",
    "moons": "two interleaving half circles, 2-D, noise 0.2, 2 classes",
    "circles": "two concentric circles (radius ratio 0.5), 2-D, noise 0.1, 2 classes",
    "spirals": "two interleaved spirals, 2-D, noise 0.2, 2 classes",
    "xor": "points in [-1, 1]^2 labelled by the sign of x*y, 2 classes",
}
TEST_FRACTION = 0.2
DIGITS_FEATURES = 64  # 8 x 8 pixels
POINTS_2D = 1000


@dataclass(frozen=True)
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int

    @property
    def features(self) -> int:
        return self.x_train.shape[1]


def _moons(rng, n):
    half = n // 2
    t_out, t_in = np.pi * rng.random(half), np.pi * rng.random(n - half)
    x = np.concatenate([np.c_[np.cos(t_out), np.sin(t_out)],
                        np.c_[1 - np.cos(t_in), 0.5 - np.sin(t_in)]])
    y = np.r_[np.zeros(half), np.ones(n - half)]
    return x + rng.normal(0, 0.2, x.shape), y


def _circles(rng, n):
    half = n // 2
    t = 2 * np.pi * rng.random(n)
    radius = np.r_[np.ones(half), 0.5 * np.ones(n - half)]
    x = np.c_[radius * np.cos(t), radius * np.sin(t)]
    y = np.r_[np.zeros(half), np.ones(n - half)]
    return x + rng.normal(0, 0.1, x.shape), y


def _spirals(rng, n):
    half = n // 2
    t = np.sqrt(rng.random(n)) * 3 * np.pi
    sign = np.r_[np.ones(half), -np.ones(n - half)]
    x = np.c_[sign * t * np.cos(t), sign * t * np.sin(t)] / (3 * np.pi)
    y = np.r_[np.zeros(half), np.ones(n - half)]
    return x * 2 + rng.normal(0, 0.2 / 3, x.shape), y


def _xor(rng, n):
    x = rng.uniform(-1, 1, size=(n, 2))
    return x, (x[:, 0] * x[:, 1] > 0).astype(float)


def _digits():
    from sklearn.datasets import load_digits  # bundled with scikit-learn, no download
    bunch = load_digits()
    return bunch.data / 16.0, bunch.target


def _split(x, y, rng):
    """Stratified split: TEST_FRACTION of every class goes to the test set."""
    test = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        chosen = rng.permutation(members)[:int(round(TEST_FRACTION * len(members)))]
        test[chosen] = True
    train_order = rng.permutation(np.flatnonzero(~test))
    return x[train_order], y[train_order], x[test], y[test]


def load(name: str, seed: int = 0, dtype: str = "float32") -> Dataset:
    """The named data set, split into train and test from `seed`."""
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)} (got {name!r})")
    rng = np.random.default_rng([seed, 5])
    if name == "digits":
        x, y = _digits()
    else:
        x, y = {"moons": _moons, "circles": _circles, "spirals": _spirals,
                "xor": _xor}[name](rng, POINTS_2D)
    x_train, y_train, x_test, y_test = _split(x, y, rng)
    return Dataset(name, x_train.astype(dtype), y_train.astype("int32"),
                   x_test.astype(dtype), y_test.astype("int32"), int(y.max()) + 1)
