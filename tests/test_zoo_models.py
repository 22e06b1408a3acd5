"""core.zoo_models: real keras.Models you can fit, save and load; keras.applications."""
import numpy as np
import pytest

from core.flow import flow
from core.tf_setup import keras
from core.zoo import APPLICATIONS, ZooSpec, build


def test_the_mlp_fits_saves_and_loads_in_safe_mode(tmp_path):
    model = build(ZooSpec(architecture="mlp", depth=3, width=8, batch_norm=True))
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 8)).astype("float32"), rng.normal(size=(32, 10))
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    path = tmp_path / "mlp.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    np.testing.assert_allclose(flow(loaded, x[:8])["signal_grad_norm"],
                               flow(model, x[:8])["signal_grad_norm"], rtol=1e-6)


@pytest.mark.parametrize("name", list(APPLICATIONS))
def test_keras_applications_build_with_random_weights_and_flatten(name):
    spec = ZooSpec(architecture=name, image_size=32, batch_size=2)
    model = build(spec)
    table = flow(model, batch_size=2)
    assert table["name"].iloc[-1] == "readout"
    assert len(table) > 10  # the nested application's own layers have rows
    assert table["signal_grad_norm"].notna().all()
    assert (table["weight_grad_norm"] > 0).mean() > 0.9
