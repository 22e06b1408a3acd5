"""AppTest for the Jacobian-spectrum section (pages/jacobian_section.py) on the two
pages that show it, Why it happens and Initialization: its charts, its control bound to
the URL, and each page keeping its own choice."""
from tests.conftest import chart_specs

WHY = "pages/why.py"
INIT = "pages/initialization.py"
SMALL_INIT = {"grid_depth": "10", "sweep_depth": "5", "depth": "8", "seeds_depth": "5"}
HEADER = "Every direction, not only the average: the Jacobian spectrum"


def titles(at) -> list[str]:
    return [spec.get("title", {}).get("text", "") for spec in chart_specs(at)]


def test_on_why_it_happens(app):
    at = app(WHY, {"depth": "12", "jacobian_activation": "tanh"})
    headers = [h.value for h in at.header]
    assert f"4. {HEADER}" in headers and "5. The same multiplication through time" in headers
    assert "orthogonal weights: singular values of J (tanh)" in titles(at)
    assert "Gaussian weights: singular values of J (tanh)" in titles(at)
    assert "How the spectrum spreads with depth (tanh)" in titles(at)
    assert any("**orthogonal**: Var λ" in m.value for m in at.markdown)
    assert any("χ above is an average" in m.value for m in at.markdown)
    assert any("ReLU cannot be isometric" in c.value for c in at.caption)
    at.radio(key="why:jacobian_activation").set_value("relu").run()
    assert not at.exception
    assert "How the spectrum spreads with depth (relu)" in titles(at)
    assert at.query_params["jacobian_activation"] == "relu"
    labels = [button.proto.label for button in at.get("download_button")]
    assert "Download the moments (CSV)" in labels
    assert any("σ_w² = 2" in m.value and "relu" in m.value for m in at.markdown)


def test_on_initialization_with_its_own_choice(app):
    at = app(INIT, SMALL_INIT)
    assert f"6. {HEADER}" in [h.value for h in at.header]
    assert "orthogonal weights: singular values of J (linear)" in titles(at)
    assert any("Orthogonal and Gaussian weights of the same variance" in m.value
               for m in at.markdown)
    at.radio(key="initialization:jacobian_activation").set_value("tanh").run()
    assert not at.exception
    assert "How the spectrum spreads with depth (tanh)" in titles(at)
    at.query_params.clear()
    at.switch_page(WHY).run()  # the other page's section keeps its own choice
    assert not at.exception
    assert at.radio(key="why:jacobian_activation").value == "linear"
    assert "How the spectrum spreads with depth (linear)" in titles(at)


def test_a_bad_url_value_warns_and_falls_back(app):
    at = app(WHY, {"depth": "12", "jacobian_activation": "sigmoid"})
    assert any("jacobian_activation" in w.value for w in at.warning)
    assert at.radio(key="why:jacobian_activation").value == "linear"
