"""core.user_model: safe loading, clear refusals, budgets and checked batches."""
import io
import json

import numpy as np
import pytest

from core import user_model
from core.tf_setup import keras
from core.user_model import ModelRefused, check_budget, load_batch, load_keras_file, \
    load_model_json

L = keras.layers


def small():
    return keras.Sequential([keras.Input((4,)), L.Dense(3, activation="relu"), L.Dense(2)])


def keras_bytes(model, tmp_path) -> bytes:
    path = tmp_path / "model.keras"
    model.save(path)
    return path.read_bytes()


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_keras_file_and_json_load_with_the_same_architecture(tmp_path):
    model = small()
    loaded = load_keras_file(keras_bytes(model, tmp_path))
    np.testing.assert_array_equal(loaded.weights[0].numpy(), model.weights[0].numpy())
    assert [type(l).__name__ for l in load_model_json(model.to_json()).layers] == \
        ["Dense", "Dense"]


def test_lambda_and_foreign_code_are_refused(tmp_path):
    lam = keras.Sequential([keras.Input((3,)), L.Lambda(lambda x: x * 2), L.Dense(2)])
    with pytest.raises(ModelRefused, match="Lambda"):
        load_model_json(lam.to_json())
    config = json.loads(small().to_json())
    config["config"]["layers"][1]["module"] = "os"
    with pytest.raises(ModelRefused, match="outside Keras"):
        load_model_json(json.dumps(config))


@pytest.mark.parametrize("text, words", [
    ("not json", "not JSON"), ("[1, 2]", "not a Keras model"),
    ('{"class_name": "Nothing", "config": {}}', "could not load"),
])
def test_bad_json_gets_a_plain_message(text, words):
    with pytest.raises(ModelRefused, match=words):
        load_model_json(text)


def test_size_limit_and_not_a_zip(tmp_path, monkeypatch):
    with pytest.raises(ModelRefused, match="not a .keras file"):
        load_keras_file(b"hello")
    data = keras_bytes(small(), tmp_path)
    monkeypatch.setattr(user_model, "MAX_FILE_BYTES", len(data) - 1)
    with pytest.raises(ModelRefused, match="over the limit"):
        load_keras_file(data)


def test_unsupported_layers_are_refused():
    text = keras.Sequential([keras.Input((1,), dtype="string"),
                             L.StringLookup(vocabulary=["a", "b"]),
                             L.Embedding(3, 2)]).to_json()
    with pytest.raises(ModelRefused, match="unsupported layer type StringLookup"):
        load_model_json(text)


def test_budgets(monkeypatch):
    model = small()
    assert check_budget(model, 8)["params"] == 23
    assert check_budget(model, 8)["work"] == 8 * (12 + 6)
    monkeypatch.setattr(user_model, "MAX_PARAMS", 10)
    with pytest.raises(ModelRefused, match="weights, over the budget"):
        check_budget(model, 8)
    monkeypatch.setattr(user_model, "MAX_PARAMS", 10 ** 6)
    monkeypatch.setattr(user_model, "MAX_WORK", 100)
    with pytest.raises(ModelRefused, match="work budget"):
        check_budget(model, 8)


def test_work_of_convolutions_attention_and_recurrence():
    conv = keras.Sequential([keras.Input((8, 8, 3)), L.Conv2D(4, 3, padding="same")])
    assert user_model.estimate_work(conv, 1) == 3 * 3 * 3 * 4 * 64
    rnn = keras.Sequential([keras.Input((5, 2)), L.SimpleRNN(3)])
    assert user_model.estimate_work(rnn, 1) == (2 * 3 + 3 * 3) * 5


def test_batches_are_checked_against_the_model():
    model = small()
    x, y = load_batch(npz(x=np.ones((5, 4)), y=np.zeros((5, 2))), model)
    assert x.shape == (5, 4) and x.dtype == np.float32 and y.shape == (5, 2)
    assert load_batch(npz(x=np.ones((5, 4))), model)[1] is None
    cases = [(npz(x=np.ones((5, 3))), "takes \\(batch, 4\\)"),
             (npz(inputs=np.ones((5, 4))), "no array named x"),
             (npz(x=np.ones((5, 4)), y=np.ones((4, 2))), "y has shape"),
             (npz(x=np.array([np.nan] * 4 * 2).reshape(2, 4)), "inf or nan"),
             (npz(x=np.array([{"a": 1}], dtype=object)), "object arrays are refused"),
             (b"garbage", "not an .npz")]
    for data, words in cases:
        with pytest.raises(ModelRefused, match=words):
            load_batch(data, model)
