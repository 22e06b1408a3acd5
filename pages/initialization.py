"""Initialization: the formulas, side-by-side runs, matched pairs, the Goldilocks zone and
the spread over seeds at finite width."""
import streamlit as st

from core.charts import grids
from core.charts import profiles as charts
from core.experiments import initialization
from core.spec import ACTIVATIONS, INITS, ModelSpec
from pages import initialization_seeds, ui

WIDTH = 128  # every network of the page
st.title("🎚️ Initialization")
ui.intro(
    "Each layer multiplies the signal by a factor set by the spread of its weights and "
    "the slope of its activation. Initialization picks the spread so that this factor "
    "is close to 1 in both directions: the *Goldilocks zone*. Every chart below comes "
    "from real Keras networks; formulas are labelled as theory.")

controls = ui.Controls("initialization")


with ui.folded("1. The formulas"):
    row = st.columns(2)
    n_in = controls.number_input("n_in (fan-in)", "n_in", 1, 1024, 128, where=row[0])
    n_out = controls.number_input("n_out (fan-out)", "n_out", 1, 1024, 128, where=row[1])
    with st.spinner("Drawing each initializer with Keras..."):
        formulas = initialization.formula_table(int(n_in), int(n_out))
    for formula, values in initialization.formula_lines(formulas):
        left, right = st.columns([3, 2])
        left.latex(formula)
        right.markdown(values)
    st.caption(
        f"σ (formula) is the weights' standard deviation for n_in = {n_in}, n_out = "
        f"{n_out}; 'Keras drew' is the measured std of one matrix drawn by that Keras "
        "initializer. Leaky He uses slope a = 0.01. The course notes give He as "
        "√2·√(2/(n_in+n_out)) (`he_avg_normal` here): that averages the fans, while "
        "Keras' `he_normal` uses Var(W) = 2/n_in (a truncated normal rescaled to that "
        "variance). They agree only when n_in = n_out; set them apart above to see the "
        "difference.")
    ui.download_csv(formulas.drop(columns="latex"), f"init_formulas_in{n_in}_out{n_out}.csv",
                    key="download_formulas", label="Download the formulas' values (CSV)",
                    help="One row per initializer: σ from its formula and σ Keras drew.")

st.header("2. Side by side")
controls_column, charts_column = ui.beside()
row = ui.row([2, 2, 4], controls_column)
activation = controls.selectbox("Activation", "activation", ACTIVATIONS, "relu",
                                where=row[0])
depth = controls.slider("Depth", "depth", 2, 100, 30, where=row[1])
inits = controls.multiselect("Initializations (1 to 4)", "inits", INITS,
                             ["glorot_normal", "he_normal"], max_selections=4, where=row[2])
if not inits:
    st.info("Choose one to four initializations above to compare them, "
            "layer by layer (the amplifier chain below follows the same choice).",
            icon="👆")
else:
    base = ModelSpec(depth=depth, width=WIDTH, batch_size=128, activation=activation)
    pinned = ui.pin("initialization", dict(activation=activation, depth=depth,
                                           inits=tuple(inits)),
                    initialization.describe, where=controls_column)
    with st.spinner("Profiling the networks in Keras..."):
        profiles = initialization.compare(base, tuple(inits))
        if pinned:
            profiles = initialization.with_pinned(profiles, initialization.compare(
                base.replace(activation=pinned["activation"], depth=pinned["depth"]),
                pinned["inits"]), f"{pinned['activation']}, depth {pinned['depth']}")
    left, right = ui.row(2, charts_column)
    ui.chart(charts.forward_std_chart(profiles), key="chart_forward",
             filename=f"init_forward_{activation}_L{depth}", where=left)
    ui.chart(charts.backward_signal_chart(profiles), key="chart_backward",
             filename=f"init_backward_{activation}_L{depth}", where=right)
    st.caption("Dashed lines are infinite-width mean-field theory. At width 128 the measured "
               "forward std drifts away from it with depth (finite-width fluctuations), most "
               "visibly for ReLU; the backward gains below stay close.")
    ui.download_csv(profiles, f"init_side_by_side_{activation}_L{depth}.csv",
                    key="download_side")
    ui.keras_code_expander({init: base.replace(init=init) for init in inits})

    st.subheader("The amplifier chain")
    st.markdown(
        "The course notes compare a deep network to a chain of microphone amplifiers: each "
        "knob set too low and nobody hears the voice, too high and it distorts. Here each "
        "layer is an amplifier for the backward signal, and its gain is the ratio of the "
        "signal it passes down to the signal it receives. A gain of 1 at every layer carries "
        "the voice through unchanged; 0.9 over 30 layers leaves 0.9²⁹ ≈ 0.05 of it (theory).")
    ui.chart(charts.gain_chart(profiles), key="chart_gain",
             filename=f"init_gain_{activation}_L{depth}")

st.header("3. Matched pairs")
grid_depth = controls.slider("Depth of every network in the grid", "grid_depth", 10, 100,
                             50, step=10)
with st.spinner("Measuring 36 Keras networks (first visit: up to ~10 s)..."):
    table = initialization.grid(depth=grid_depth, width=WIDTH)
ui.chart(grids.heatmap_chart(table), key="chart_grid", filename=f"init_grid_L{grid_depth}")
st.caption(initialization.grid_caption(table, grid_depth, WIDTH))
st.markdown(
    "The good pairs are the ones each formula was derived for: Glorot with tanh, He with "
    "the ReLU family, LeCun with SELU. No initialization rescues sigmoid: its slope is at "
    "most 0.25, so each layer divides the signal by about 4 (16 in variance) unless the "
    "weights "
    "are so large that the units saturate (the N(0, 1) case on the previous page).")
ui.download_csv(table, f"init_grid_L{grid_depth}.csv", key="download_grid")

st.header("4. The Goldilocks zone")
sweep_depth = controls.slider("Depth", "sweep_depth", 5, 60, 30, step=5)
with st.spinner("Sweeping σ_w for tanh and ReLU..."):
    rows = initialization.sweep(depth=sweep_depth, width=WIDTH)
ui.chart(grids.sweep_chart(rows, initialization.edges_of_chaos(), sweep_depth),
         key="chart_sweep", filename=f"init_sweep_L{sweep_depth}")
st.markdown(initialization.goldilocks_text(rows))
st.caption(
    "W ~ N(0, σ_w²/n), zero biases, width 128, batch 64. Left of the edge the signal "
    "vanishes (ordered phase), right of it it explodes (chaotic phase). tanh's edge is "
    "σ_w = 1 (Glorot and LeCun for square layers); ReLU's is √2 (He). At finite depth "
    "tanh's crossing sits a little above 1, because near the edge its variance decays "
    "only slowly toward the fixed point.")
ui.download_csv(rows, f"init_sweep_L{sweep_depth}.csv", key="download_sweep")
initialization_seeds.finite_width_section(controls)
from pages.jacobian_section import jacobian_section  # noqa: E402 - its own section
jacobian_section(controls, 6)

ui.download_all_charts("initialization")
st.info("**Takeaway.** Match the initialization to the activation: Glorot for tanh, He "
        "for ReLU and its relatives, LeCun for SELU. Then each layer's gain starts near "
        "1, and the signal reaches the first layer at the size it left the last. Glorot "
        "& Bengio derived their formula for sigmoid too, but measured (section 3) a deep "
        "sigmoid network vanishes under every initialization in the grid: sigmoid's "
        "slope is at most 0.25 and its outputs have mean 0.5 rather than 0, so each "
        "layer shrinks the signal whatever the weights' spread, short of saturating the "
        "units.", icon="💡")
ui.page_link("pages/phase.py", label="Next: Phase diagram", icon="🧭")
