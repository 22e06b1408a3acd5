"""Phase diagram: order, chaos and the edge between them, measured beside mean-field theory."""
import streamlit as st

from core.charts import phase as charts
from core.experiments import phase
from core.theory import with_theory
from pages import ui

SIGMA_W2, SIGMA_B2 = phase.PAGE_SIGMA_W2, phase.PAGE_SIGMA_B2
st.title("🧭 Phase diagram")
ui.intro(
    "A random network with weights W ~ N(0, σ_w²/n) and biases b ~ N(0, σ_b²) lives in "
    "one of two phases (Poole et al. 2016; Schoenholz et al. 2017). In the **ordered** "
    "phase every layer shrinks the back-propagated signal by a factor χ₁ < 1: gradients "
    "vanish. In the **chaotic** phase χ₁ > 1: they explode. Between them runs the "
    "**critical line** χ₁ = 1, the edge of chaos, where a signal survives many layers. "
    "Mean-field theory (labelled as theory) draws the line; each cell below is a real "
    "Keras network.")

controls = ui.Controls("phase")

st.header("1. Order, chaos and the edge between")
controls_column, charts_column = ui.beside()
row = ui.row([2, 3, 2], controls_column)
activation = controls.radio("Activation", "activation", ("tanh", "relu"), "tanh",
                            horizontal=True, where=row[0],
                            help="tanh: the critical line bends with σ_b². ReLU: "
                                 "χ₁ = σ_w²/2 whatever the bias, critical at σ_w² = 2 (He).")
depth = controls.slider("Depth L", "depth", 10, 100, 50, step=10, where=row[1],
                        help="Hidden layers of every network in the grid.")
width = controls.select_slider("Width n", "width", (64, 128, 256), 128, where=row[2],
                               help="Units per hidden layer (theory: infinite width).")
spec = phase.PhaseSpec(activation=activation, depth=depth, width=width,
                       sigma_w2=SIGMA_W2, sigma_b2=SIGMA_B2)
grid = ui.with_progress(lambda on_point: phase.phase_grid(spec, on_point),
                        f"Measuring {spec.points} Keras networks...",
                        cached=phase.is_cached(spec))
lines = phase.theory_lines(activation, max(SIGMA_B2))

row = ui.row(2, controls_column)
sigma_w2 = controls.select_slider("Chosen σ_w²", "sigma_w2", SIGMA_W2, 2.0, where=row[0],
                                  help="The weight variance of the network shown below "
                                       "(outlined on the diagram).")
sigma_b2 = controls.select_slider("Chosen σ_b²", "sigma_b2", SIGMA_B2, 0.05, where=row[1],
                                  help="The bias variance of the network shown below.")
ui.chart(charts.phase_chart(grid, lines, chosen=(sigma_w2, sigma_b2)), key="chart_phase",
         filename=f"phase_{activation}_L{depth}_n{width}", where=charts_column)
charts_column.caption(phase.phase_caption(grid, spec))
left, right = ui.row(2, charts_column)
ui.download_csv(grid, f"phase_{activation}_L{depth}_n{width}.csv", key="download_phase",
                help="One row per grid point: measured and theory.", where=left)
ui.download_csv(lines, f"phase_lines_{activation}.csv", key="download_lines",
                label="Download the theory lines (CSV)",
                help="The critical line and the depth-scale contours (theory).",
                where=right)

st.subheader(f"The network at σ_w² = {sigma_w2:g}, σ_b² = {sigma_b2:g}")
point = grid[(grid.sigma_w2 == sigma_w2) & (grid.sigma_b2 == sigma_b2)].iloc[0]
st.markdown(phase.point_text(point.to_dict()))
network = spec.network(sigma_w2, sigma_b2)
table = with_theory(network, ui.profile(network.replace(batch_size=128)))
label = f"σ_w² = {sigma_w2:g}, σ_b² = {sigma_b2:g}"
left, right = ui.row(2)
forward, backward = charts.point_charts(table, label)
ui.chart(forward, key="chart_point_forward", where=left,
         filename=f"phase_point_forward_{activation}_w{sigma_w2:g}_b{sigma_b2:g}")
ui.chart(backward, key="chart_point_backward", where=right,
         filename=f"phase_point_backward_{activation}_w{sigma_w2:g}_b{sigma_b2:g}")
st.caption("The same network as the outlined cell, measured on a batch of 128 inputs "
           "(the grid uses 16 per network, so its ratio differs slightly).")
ui.download_csv(table, f"phase_point_{activation}_w{sigma_w2:g}_b{sigma_b2:g}.csv",
                key="download_point")
ui.keras_code_expander(network.replace(batch_size=128))

st.header("2. Beyond the average")
st.markdown(
    "The ratio above is one average over every direction of the signal. How the gains "
    "spread over directions on the critical line, orthogonal weights against Gaussian "
    "ones (the Jacobian's singular values, beside free-probability theory), and how "
    "often a narrow, deep ReLU network is dead before training have their own sections:")
ui.page_link("pages/why.py", label="The Jacobian spectrum: every direction, not only the "
             "average (Why it happens)", icon="🔍")
ui.page_link("pages/initialization.py", label="Orthogonal or Gaussian weights: the "
             "Jacobian spectrum (Initialization)", icon="🎚️")
ui.page_link("pages/activations.py", label="Born dead: ReLU networks dead before "
             "training (Activations)", icon="〰️")

ui.download_all_charts("phase")
st.info("**Takeaway.** Whether a deep network can pass a gradient is decided before "
        "training, by two numbers: σ_w² and σ_b². Below the critical line gradients "
        "vanish within a few depth scales ξ; above it they explode. On the line ξ is "
        "infinite, and for tanh at σ_b² = 0 the decay is only a power law of the depth. "
        "Glorot/LeCun for tanh and He for ReLU are points on this line. The line "
        "fixes the average gain only: how the gains spread over directions depends on "
        "the weights (orthogonal or Gaussian, the Jacobian spectrum), and a narrow, "
        "deep ReLU network can be dead before training even on the line, at He "
        "initialization (born dead).", icon="💡")
ui.page_link("pages/activations.py", label="Next: Activations", icon="〰️")
