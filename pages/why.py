"""Why it happens: saturation, Glorot & Bengio's experiment, variance, the Jacobian spectrum."""
import streamlit as st

from core import summary
from core.charts import curves as curve_charts
from core.charts import profiles as charts
from core.experiments import why
from core.spec import ACTIVATIONS, INITS
from pages import jacobian_section, ui

WIDTHS = (64, 128, 256)

st.title("🔍 Why it happens")
ui.intro(
    "Back-propagation multiplies the gradient, layer after layer, by the weights **and** by "
    "the slope of the activation. Two things decide whether that product vanishes or "
    "explodes: how flat the activation is where the units sit, and how large the weights "
    "are. Below, real Keras networks show both, and the mean-field theory (labelled "
    "*theory*) is drawn beside what was measured.")

controls = ui.Controls("why")

st.header("1. Activations and their slopes")
controls_column, charts_column = ui.beside()
reach = controls.select_slider("Range of z: from −r to r", "z_range", why.Z_RANGES, 5.0,
                               format_func="{:g}".format, where=controls_column,
                               help="Widen it to see how flat the saturating tails get.")
with st.spinner("Evaluating the Keras activations..."):
    curves = why.slope_curves(reach=reach)
left, right = ui.row(2, charts_column)
ui.chart(curve_charts.activation_curves_chart(curves, "value"), key="chart_curves",
         filename=f"activations_z{reach:g}", where=left)
ui.chart(curve_charts.activation_curves_chart(
    curves, "slope", title="Their slopes φ′(z); dashed: 0.25, sigmoid's peak slope",
    guide=0.25), key="chart_slopes", filename=f"activation_slopes_z{reach:g}", where=right)
ui.download_csv(curves, f"activation_curves_z{reach:g}.csv", key="download_curves",
                label="Download the curves (CSV)", where=controls_column,
                help=f"φ(z) and φ′(z) for every activation, z from −{reach:g} to {reach:g}.")
controls_column.markdown(why.SLOPES_TEXT)
st.latex(r"\sigma'(z)=\sigma(z)\,(1-\sigma(z))\le\tfrac14\quad\Longrightarrow\quad"
         r"\prod_{l=1}^{L}\sigma'(z_l)\le 0.25^{L}\qquad\text{(theory)}")

st.header("2. Glorot & Bengio's experiment, live")
ui.intro(why.GLOROT_BENGIO_TEXT)
controls_column, charts_column = ui.beside()
row = ui.row(2, controls_column)
gb_activation = controls.radio("Activation", "gb_activation", ("sigmoid", "tanh"),
                               "sigmoid", where=row[0], horizontal=True)
gb_depth = controls.slider("Hidden layers", "gb_depth", 2, 20, 8, where=row[1])
with st.spinner("Running Glorot & Bengio's three networks..."):
    histograms, gb_profiles, gb_summary = why.glorot_bengio(gb_activation, gb_depth)
gb_name = f"{gb_activation}_L{gb_depth}"
gb_inits = dict.fromkeys(histograms["init"])
for index, (column, name) in enumerate(zip(charts_column.columns(3), gb_inits)):
    ui.chart(charts.histogram_chart(histograms[histograms["init"] == name],
                                    f"{gb_activation}, {name}"),
             key=f"chart_histogram_{index}", where=column,
             filename=f"glorot_bengio_histogram_{gb_name}_{index + 1}")
left, right = ui.row(2, charts_column)
ui.chart(charts.by_init_chart(gb_profiles, "saturated_fraction", "Saturated units per layer",
                              "saturated units", fraction=True),
         key="chart_saturated", where=left, filename=f"glorot_bengio_saturated_{gb_name}")
left.caption(why.saturation_caption(gb_profiles))
ui.chart(charts.signal_by_init_chart(gb_profiles), key="chart_gb_signal",
         filename=f"glorot_bengio_signal_{gb_name}", where=right)
st.dataframe(summary.format_table(gb_summary), hide_index=True, width="stretch",
             column_config={"initialization": st.column_config.TextColumn(pinned=True)})
st.caption("Ratios are layer 1 / last layer; the signal is ‖dLoss/dh_l‖, the weight "
           "gradient ‖dLoss/dW_l‖. Scroll the table sideways for the per-layer "
           "statistics.")
downloads = st.container(horizontal=True, gap="small")
ui.download_csv(gb_profiles, f"glorot_bengio_layers_{gb_name}.csv",
                key="download_gb_layers", label="Per-layer table (CSV)", where=downloads)
ui.download_csv(gb_summary, f"glorot_bengio_summary_{gb_name}.csv",
                key="download_gb_summary", label="Summary (CSV)", where=downloads,
                help="The table above: one row per initialization.")
ui.download_csv(histograms, f"glorot_bengio_histograms_{gb_name}.csv",
                key="download_gb_histograms", label="Histograms (CSV)", where=downloads,
                help="Share of outputs per bin, per layer and initialization.")
ui.keras_code_expander(why.glorot_bengio_specs(gb_activation, gb_depth))
st.info(why.glorot_bengio_note(gb_summary, gb_activation, gb_depth), icon="🔎")
ui.page_link("pages/remedies.py", label="Watch their Figure 2 appear during training "
             "(Remedies)", icon="🩹")

st.header("3. Variance propagation, with theory overlaid")
st.markdown(
    "Each layer multiplies the squared backward signal by "
    "χ = n·Var(W)·E[φ′(z)²], the mean over the pre-activation distribution of the "
    "squared slope. χ < 1 vanishes, χ > 1 explodes. The core computes χ for every layer "
    "by numerical integration (Gauss–Hermite), following the forward variance.")
st.latex(r"q_l = n\,\mathrm{Var}(W)\,\mathbb{E}\!\left[\phi(z)^2\right]_{z\sim\mathcal N(0,"
         r"q_{l-1})},\qquad \chi_l = n\,\mathrm{Var}(W)\,\mathbb{E}\!\left[\phi'(z)^2\right]"
         r"_{z\sim\mathcal N(0,q_l)},\qquad \|\delta_{l-1}\| \approx \sqrt{\chi_l}\,"
         r"\|\delta_l\|\quad\text{(theory)}")
controls_column, charts_column = ui.beside()
row = ui.row(4, controls_column)
activation = controls.selectbox("Activation", "activation", ACTIVATIONS, "tanh",
                                where=row[0])
init = controls.selectbox("Initialization", "init", INITS, "random_normal", where=row[1])
depth = controls.slider("Depth", "depth", 2, 100, 30, where=row[2])
width = controls.select_slider("Width", "width", WIDTHS, 128, where=row[3])
with st.spinner("Measuring every layer with TensorFlow..."):
    run = why.variance_propagation(activation, init, depth, width)
metrics = ui.row(3, controls_column)
metrics[0].metric("Signal ratio layer 1 / L (measured)",
                  ui.format_number(run["summary"]["ratio"]))
metrics[1].metric("Signal ratio (theory)", ui.format_number(run["theory_ratio"]),
                  help="Mean-field prediction; not available with batch norm or skips.")
metrics[2].metric(f"Weight-gradient ratio 1 / L (median of {why.SEEDS} seeds)",
                  ui.format_number(run["weights"]["median"]), help=why.seeds_help(run))
for line in summary.describe_problems(run["summary"]):
    controls_column.warning(line, icon="⚠️")
name = f"why_{activation}_{init}_L{depth}_n{width}"
ui.chart(charts.variance_chart(
    run["table"], f"Gradients per layer: {activation}, {init}, {depth} × {width}"),
    key="chart_variance", filename=name, where=charts_column)
st.markdown(
    "**Why the weight gradient can look flat while the signal vanishes.** A layer's weight "
    "gradient is its input times its backward signal:")
st.latex(r"\frac{\partial L}{\partial W_l}=h_{l-1}^{\top}\,\delta_l,\qquad"
         r"\delta_l=\frac{\partial L}{\partial z_l}")
st.markdown(
    "Toward the input, `δ_l` shrinks layer after layer; but when the forward signal shrinks "
    "too (as with small weights), the lower layers' inputs `h_{l−1}` are larger by about "
    "the same factor, and the product stays nearly constant (Glorot & Bengio 2010, eq. "
    "14). A chart of weight gradients alone at initialization hides the vanishing "
    "signal, so both are drawn here.")
st.markdown(why.flatness_text(run))
st.caption(why.noise_caption(run))
ui.download_csv(run["table"], f"{name}.csv", key="download_why")
ui.keras_code_expander(run["spec"])
jacobian_section.jacobian_section(controls, 4)

st.header("5. The same multiplication through time")
st.markdown(
    "A recurrent network applies the same weight matrix at every time step, so the "
    "gradient through T steps is a product of T Jacobians: it vanishes or explodes with "
    "the sequence length exactly as here with depth (Pascanu et al. 2013).")
ui.page_link("pages/through_time.py", label="Recurrent networks: gradients through time",
             icon="🔁")
ui.download_all_charts("why")
st.info("**Takeaway.** The gradient shrinks when the activation's slope is small where "
        "units sit (saturation) or when the weights are too small; it grows when they are "
        "too large. The per-layer factor χ says which, and initialization sets it. χ is "
        "an average: at χ = 1 the gains along single directions can still spread apart; "
        "orthogonal weights keep them near 1 for linear and tanh networks, ReLU spreads "
        "them whatever the weights (section 4).", icon="💡")
ui.page_link("pages/initialization.py", label="Next: Initialization", icon="🎚️")
