"""Training data, nothing downloaded: scikit-learn's bundled digits and 2-D toy sets.

Every loader is a pure function of the seed and returns a `Dataset` with a stratified
held-out split (scikit-learn's `train_test_split(stratify=y)`). The digits ship with
scikit-learn, moons and circles are its `make_moons` and `make_circles`; the two
spirals and XOR, which scikit-learn has no generator for, are drawn here with numpy.
scikit-learn is imported only when a data set is loaded.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .weights import layer_seed

DATASETS = ("digits", "moons", "circles", "spirals", "xor")
TEST_FRACTION = 0.2
DIGITS_FEATURES = 64  # 8 x 8 pixels
POINTS_2D = 1000
DATA_DRAW, SPLIT_DRAW = 5, 6  # core.weights.layer_seed indices of the two draws


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


def _moons(seed: int, n: int):
    from sklearn.datasets import make_moons
    return make_moons(n_samples=n, noise=0.2, random_state=seed)


def _circles(seed: int, n: int):
    from sklearn.datasets import make_circles
    return make_circles(n_samples=n, noise=0.1, factor=0.5, random_state=seed)


def _spirals(seed: int, n: int):
    rng = np.random.default_rng(seed)
    half = n // 2
    t = np.sqrt(rng.random(n)) * 3 * np.pi
    sign = np.r_[np.ones(half), -np.ones(n - half)]
    x = np.c_[sign * t * np.cos(t), sign * t * np.sin(t)] / (3 * np.pi)
    y = np.r_[np.zeros(half), np.ones(n - half)]
    return x * 2 + rng.normal(0, 0.2 / 3, x.shape), y


def _xor(seed: int, n: int):
    x = np.random.default_rng(seed).uniform(-1, 1, size=(n, 2))
    return x, (x[:, 0] * x[:, 1] > 0).astype(float)


def _digits():
    from sklearn.datasets import load_digits  # bundled with scikit-learn, no download
    bunch = load_digits()
    return bunch.data / 16.0, bunch.target


def load(name: str, seed: int = 0, dtype: str = "float32") -> Dataset:
    """The named data set, split into train and test from `seed`."""
    from sklearn.model_selection import train_test_split
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)} (got {name!r})")
    if name == "digits":
        x, y = _digits()
    else:
        x, y = {"moons": _moons, "circles": _circles, "spirals": _spirals,
                "xor": _xor}[name](layer_seed(seed, DATA_DRAW), POINTS_2D)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_FRACTION, stratify=y, random_state=layer_seed(seed, SPLIT_DRAW))
    return Dataset(name, x_train.astype(dtype), y_train.astype("int32"),
                   x_test.astype(dtype), y_test.astype("int32"), int(y.max()) + 1)
