"""Your network's skip scale β: the control (presets 1, 1/√L, 0) for the zoo's models
with skip connections (the mlp with its skips on, the ResNet, the Transformers)."""
import streamlit as st

from core.experiments import your_network as yn
from core.zoo import ZooSpec, skip_count


def control(controls, spec: ZooSpec, where=None):
    """Draws the mlp's Skips switch and the β presets (disabled, and saying why, for a
    model without skips). Returns the spec with its β and the mlp's ModelSpec (None
    for the other architectures)."""
    place, mlp = where or st, None
    if spec.architecture == "mlp":
        left, place = place.columns([1, 3])
        residual = controls.toggle("Skips", "residual", False, where=left,
                                   help="Every hidden layer after the first: h + β·layer(h).")
        mlp = spec.model_spec(residual=residual)
    skips = skip_count(spec, mlp)
    preset = controls.radio(
        "Skip scale β", "residual_scale", list(yn.SKIP_PRESETS), "1", where=place,
        horizontal=True, disabled=not skips,
        format_func=lambda preset: yn.preset_label(preset, skips),
        help="Each skip adds its branch times β (fixed: the network at initialization). "
             "L is the number of skips of this model.")
    if skips:
        spec = spec.replace(residual_scale=yn.skip_scale(preset, skips))
        mlp = spec.model_spec(residual=True) if mlp is not None else None
    place.caption(yn.skips_note(spec, mlp))
    return spec, mlp
