"""The Jacobian spectrum (dynamical isometry): every direction, not only the average.

Shown on Why it happens (the average χ against every direction) and on Initialization
(orthogonal against Gaussian weights); the engine is core.experiments.phase (isometry)
and the charts core.charts.phase. Its control is bound to the URL as
`jacobian_activation`, scoped to the page that shows it.
"""
import streamlit as st

from core.charts import phase as charts
from core.experiments import phase
from pages import ui

TITLE = "Every direction, not only the average: the Jacobian spectrum"
# The first sentences of the intro, by page (the Controls' page name): what this
# section adds to the sections above it on that page.
LEADS = {
    "why": "χ above is an average: it follows the mean squared gain over every direction "
           "of the signal at once.",
    "initialization": "Orthogonal and Gaussian weights of the same variance give the same "
                      "χ, so mean-field theory gives them the same average gain. They "
                      "differ in the directions.",
}
BODY = (
    " The input-output Jacobian J = ∂h_L/∂x says what the network does to *every* "
    "direction of its input: its singular values s are the gains along each one. On the "
    "critical line the mean of λ = s² is 1, but how much the s spread depends on the "
    "weights. Orthogonal weights add no spread of their own; Gaussian ones add one unit "
    "of Var λ per layer (Saxe et al. 2013; Pennington, Schoenholz & Ganguli 2017). When "
    "every s = 1 the network is a *dynamical isometry*.")


def jacobian_section(controls, number: int) -> None:
    """Section `number` of the page: the singular values of J for orthogonal and
    Gaussian weights as depth grows, beside free-probability theory."""
    st.header(f"{number}. {TITLE}")
    ui.intro((LEADS.get(controls.page, "") + BODY).strip())
    controls_column, charts_column = ui.beside()  # side by side in presenter mode
    activation = controls.radio(
        "Activation", "jacobian_activation", phase.ISOMETRY_ACTIVATIONS, "linear",
        horizontal=True, where=controls_column,
        help="Each on its critical line: linear σ_w² = 1, ReLU σ_w² = 2 (He), tanh with "
             "σ_b² = 10⁻⁵ and its critical σ_w², inputs at the fixed point q*.")
    with st.spinner("Computing the Jacobians with tf.GradientTape..."):
        spectra = phase.isometry(activation)
    left, right = ui.row(2, charts_column)
    for weights, where in (("orthogonal", left), ("Gaussian", right)):
        ui.chart(charts.spectrum_chart(spectra["histogram"], weights, activation),
                 key=f"chart_spectrum_{weights}", where=where,
                 filename=f"jacobian_{weights}_{activation}")
    ui.chart(charts.lambda_variance_chart(spectra["moments"], activation),
             key="chart_lambda_variance", filename=f"jacobian_variance_{activation}",
             where=charts_column)
    st.markdown(phase.isometry_text(activation, spectra["moments"]))
    st.caption(f"Width {phase.ISOMETRY_WIDTH}, one input, seed 0; theory is infinite "
               "width, so the deepest Gaussian networks scatter around it. ReLU cannot be "
               "isometric: its slope is 0 or 1, so μ₂/μ₁² = 2 adds spread at every layer "
               "whatever W.")
    left, right = ui.row(2)
    ui.download_csv(spectra["values"], f"jacobian_{activation}.csv",
                    key="download_spectrum", where=left,
                    help="Every singular value: weights, depth, rank.")
    ui.download_csv(spectra["moments"], f"jacobian_moments_{activation}.csv",
                    key="download_moments", label="Download the moments (CSV)",
                    where=right, help="Mean and variance of λ per depth, measured and "
                                      "theory.")
    ui.keras_code_expander(phase.isometry_spec(activation, "orthogonal",
                                               max(phase.ISOMETRY_DEPTHS)))
