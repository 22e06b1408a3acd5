"""Activations: each activation and its slope; ReLU nets born dead; dying ReLU, live, fixes."""
import streamlit as st

from core.charts import curves as curve_charts
from core.charts import training as charts
from core.charts.export import safe_filename
from core.datasets import TEST_FRACTION
from core.experiments import activations
from pages import born_dead_section, forensics, training_runs, ui

st.title("〰️ Activations: slopes, saturation and dying ReLU")
ui.intro(
    "Back-propagation multiplies the gradient by the activation's slope φ′(z) at every "
    "layer. Where that slope is small the gradient fades (sigmoid and tanh saturate); "
    "where it is exactly zero nothing passes at all. A ReLU unit whose input is negative "
    "for every example is **dead**: it gets no gradient, so it never recovers. Below, "
    "every curve and every number is computed by Keras: φ by `keras.activations`, φ′ by "
    "`tf.GradientTape`, and the training runs by a Keras network on real data.")

SLOPES = [0.0, 0.001, 0.01, 0.05, 0.1, 0.2, 0.3]
RATES = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
STEPS = [100, 200, 300, 400, 500, 1000]
controls = ui.Controls("activations")

st.header("Each activation and its derivative")
controls_column, charts_column = ui.beside()
negative_slope = controls.select_slider(
    "Leaky ReLU: slope for negative inputs", "negative_slope", SLOPES, 0.01,
    help="0 turns Leaky ReLU back into ReLU.", where=controls_column)
with st.spinner("Differentiating every activation..."):
    measured = activations.curves(negative_slope)
table, facts = measured["curves"], measured["facts"]
left, right = ui.row(2, charts_column)
ui.chart(curve_charts.activation_curves_chart(table, "value",
                                             title="φ(z): keras.activations", subtitle=""),
         key="curves_value", filename="activations_phi", where=left)
ui.chart(curve_charts.activation_curves_chart(table, "slope",
                                             title="φ′(z): by tf.GradientTape", subtitle=""),
         key="curves_slope", filename="activations_slope", where=right)
controls_column.caption(measured["caption"])
st.dataframe(facts, hide_index=True, key="curve_facts", column_config={
    "peak slope": st.column_config.NumberColumn(format="%.4g"),
    "output range on the grid": st.column_config.TextColumn(width=150),
    "saturated (slope < 5% of peak) for": st.column_config.TextColumn(width=230)})
st.caption(f"{activations.NOT_COUNTED}: ReLU and Leaky ReLU are two straight pieces, so "
           "their slope has no tail it creeps toward; saturation is not counted for them.")
downloads = st.container(horizontal=True)
ui.download_csv(facts, "activations_slopes.csv", key="download_facts",
                label="Download this table (CSV)", help="One row per activation.",
                where=downloads)
ui.download_csv(table, f"activations_curves_slope_{negative_slope:g}.csv",
                key="download_curves", label="Download the curves (CSV)",
                help="φ(z) and φ′(z) at every grid point, per activation.",
                where=downloads)
st.markdown(measured["notes"])
born_dead_section.born_dead_section(controls)

st.header("Dying ReLU, live")
ui.intro(
    "A 6-layer network of 32 units (`he_normal`, or `lecun_normal` for SELU, "
    "`glorot_uniform` for sigmoid and tanh) learns the 8×8 handwritten digits "
    f"({1 - TEST_FRACTION:.0%} to train on, {TEST_FRACTION:.0%} held out to test) with "
    "plain SGD, batches of 64. A large learning rate throws units "
    "into the dead zone. The heatmap shows, at every step, the share of each layer's "
    "units that were dead on the whole batch (zero output and zero slope for every "
    "example). Try the three learning rates: at the small one the network learns; at "
    "the larger ones units die and accuracy collapses, or the loss becomes nan. Any "
    "click during a run stops it; the steps done so far are kept.")
controls_column, charts_column = ui.beside()
with controls_column.form("dying_relu"):
    row = ui.row(4)
    activation = controls.selectbox("Activation", "activation",
                                    activations.ACTIVATION_CHOICES, "relu", where=row[0])
    learning_rate = controls.select_slider("Learning rate", "learning_rate", RATES, 0.5,
                                           where=row[1])
    steps = controls.select_slider("Steps", "steps", STEPS, 300, where=row[2])
    seed = controls.number_input("Seed", "seed", 0, 9999, 0, where=row[3])
    buttons = ui.row(3)
    plans = {"one": buttons[0].form_submit_button("Train this network", type="primary"),
             "rates": buttons[1].form_submit_button(
                 "Train at learning rates "
                 f"{', '.join(f'{rate:g}' for rate in activations.DYING_RELU_RATES)}"),
             "every": buttons[2].form_submit_button("Train every activation at this rate")}

ui.keras_code_expander(activations.trained_network(activation, negative_slope, int(seed)))

runs = st.session_state.setdefault("activation_runs", {})
plan = next((name for name, pressed in plans.items() if pressed), None)
if plan:
    live = charts_column.empty()

    def keep(label, table):
        activations.keep_run(runs, label, table)
        st.session_state["shown_run"] = label  # show the newest run

    def draw(label, progress):
        live.altair_chart(charts.layer_step_heatmap(
            activations.dead_so_far(progress["dead_fractions"]), "dead_fraction",
            title=f"Dead units while training: {label}", legend="dead fraction",
            domain=[0, 1], scheme="reds"), width="stretch")
    training_runs.train_runs(activations.planned_runs(
        plan, activation, learning_rate, negative_slope, int(seed), steps), keep, live=draw)
    live.empty()

if not runs:
    charts_column.info("Press **Train this network** (2-5 seconds). Defaults: ReLU at learning "
            "rate 0.5, where units die.", icon="▶️")
else:
    labels = list(runs)
    shown = controls_column.selectbox("Run to inspect", labels, index=len(labels) - 1,
                                      key="shown_run")
    result = runs[shown]
    forensics.show({shown: result}, "activations", where=charts_column)
    ui.chart(charts.layer_step_heatmap(
        result, "dead_fraction", title=f"Dead units per layer and step: {shown}",
        legend="dead fraction", domain=[0, 1], scheme="reds",
        subtitle="share of the layer's units with zero output and zero slope for every "
                 "example of the batch"), key="dead_heatmap",
        filename=f"activations_dead_units_{safe_filename(shown)}", where=charts_column)
    st.subheader("All runs of this session")
    summary = activations.dying_relu_summary(runs)
    st.dataframe(summary, hide_index=True, key="dying_summary",
                 column_config={"run": st.column_config.TextColumn(width=260),
                                **{c: st.column_config.NumberColumn(format="percent")
                                   for c in ("dead at step 1", "dead at the end",
                                             "most dead", "test accuracy")}})
    ui.download_csv(summary, "activations_runs_summary.csv", key="download_summary",
                    label="Download this table (CSV)", help="One row per run.")
    ui.chart(charts.loss_chart(runs), key="runs_loss", filename="activations_loss")
    ui.chart(charts.accuracy_chart(runs), key="runs_accuracy",
             filename="activations_accuracy")
    ui.download_csv(result, f"activations_{safe_filename(shown)}.csv", key="download_run",
                    label="Download the inspected run's measurements (CSV)",
                    help="Every number behind the charts, one row per step and layer.")
    if st.button("Clear these runs", key="clear_runs"):
        runs.clear()
        st.rerun()

ui.download_all_charts("activations")
st.info(
    "**Takeaway.** An activation's slope is a factor in every gradient. Sigmoid's is at "
    "most 0.25 and tanh's vanishes on both tails; ReLU's is 1 or exactly 0, and a large "
    "learning rate can push whole layers into the 0 for good. Only Leaky ReLU keeps a "
    "fixed non-zero slope for every negative input, so its units cannot die. ELU, SELU, "
    "GELU and swish have no flat zero region, but their slopes fade toward 0 for very "
    "negative inputs: a unit pushed far to the left is not dead, yet it learns very "
    "slowly, as on a sigmoid's tail.", icon="💡")
ui.page_link("pages/remedies.py", label="Next: Remedies", icon="🩹")
