"""core.datasets: deterministic, stratified splits of scikit-learn's data sets."""
import numpy as np
import pytest

from core import datasets


@pytest.mark.parametrize("name", datasets.DATASETS)
def test_datasets_are_deterministic_stratified_splits(name):
    data = datasets.load(name, seed=3)
    again = datasets.load(name, seed=3)
    np.testing.assert_array_equal(data.x_train, again.x_train)
    total = len(data.y_train) + len(data.y_test)
    assert abs(len(data.y_test) / total - datasets.TEST_FRACTION) < 0.01
    assert data.classes == (10 if name == "digits" else 2)
    assert set(np.unique(data.y_test)) == set(range(data.classes))
    if name == "digits":
        assert total == 1797 and data.features == 64 and data.x_train.max() <= 1.0
