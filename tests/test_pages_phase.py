"""AppTest for the "Phase diagram" page, with widget changes."""
import json

from tests.conftest import chart_specs

PAGE = "pages/phase.py"
SMALL = {"depth": "10", "width": "64"}


def test_phase_page_renders_the_diagram_and_the_chosen_network(app):
    at = app(PAGE, SMALL)
    assert at.title[0].value.startswith("🧭")
    specs = chart_specs(at)
    titles = [spec.get("title", {}).get("text", "") for spec in specs]
    assert any(t.startswith("Phase diagram of tanh") for t in titles)
    assert any(t.startswith("Forward at σ_w² = 2") for t in titles)
    assert any("48 Keras networks (tanh), depth 10, width 64" in c.value
               for c in at.caption)
    assert any("**chaotic (gradients explode)**" in m.value for m in at.markdown)
    assert "theory: critical line" in json.dumps(specs)
    at.select_slider(key="phase:sigma_w2").set_value(0.5).run()
    assert not at.exception
    assert any("**ordered (gradients vanish)**" in m.value for m in at.markdown)
    assert at.query_params["sigma_w2"] == "0.5"
    at.radio(key="phase:activation").set_value("relu").run()
    assert not at.exception
    assert any(spec.get("title", {}).get("text", "").startswith("Phase diagram of relu")
               for spec in chart_specs(at))
    assert any("Takeaway" in i.value for i in at.info)


def test_phase_page_bad_url_warns_and_uses_the_default(app):
    at = app(PAGE, {**SMALL, "sigma_b2": "7", "activation": "<b>x</b>"})
    warnings = " ".join(w.value for w in at.warning)
    assert "sigma_b2" in warnings and "activation" in warnings
    assert at.select_slider(key="phase:sigma_b2").value == 0.05
    assert at.radio(key="phase:activation").value == "tanh"


def test_phase_page_points_to_the_jacobian_and_born_dead_sections(app):
    """Those sections moved to Why it happens, Initialization and Activations: the
    page links there, and neither their controls nor their charts are left here."""
    at = app(PAGE, SMALL)
    links = [(link.proto.page, link.proto.label) for link in at.get("page_link")]
    pages = {page for page, label in links if "Jacobian" in label or "Born dead" in label}
    assert pages == {"why", "initialization", "activations"}, links
    fields = at.session_state["_ui_controls"].fields
    assert "jacobian_activation" not in fields and "dead_depth" not in fields
    assert len(chart_specs(at)) == 3  # the diagram and the chosen point's two profiles
    assert any("born dead" in i.value for i in at.info)
