"""Activations: each activation and its slope; dying ReLU, live, and its fixes."""
import re
import time

import numpy as np
import pandas as pd
import streamlit as st

from core import training as engine
from core.charts import curves as curve_charts
from core.charts import training as charts
from core.datasets import TEST_FRACTION
from pages import server, ui

st.title("〰️ Activations: slopes, saturation and dying ReLU")
st.markdown(
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


@st.cache_data(max_entries=16, show_spinner="Differentiating every activation...")
def curves(negative_slope: float) -> pd.DataFrame:
    from core.activations import activation_curves
    return activation_curves(engine.ACTIVATION_CHOICES, points=401,
                             negative_slope=negative_slope)


def slug(label: str) -> str:
    """A run label as part of a file name: 'relu, lr 0.5, seed 0' -> 'relu_lr_0.5_seed_0'."""
    return re.sub(r"[^A-Za-z0-9.]+", "_", label).strip("_")


st.header("Each activation and its derivative")
negative_slope = controls.select_slider(
    "Leaky ReLU: slope for negative inputs", "negative_slope", SLOPES, 0.01,
    help="0 turns Leaky ReLU back into ReLU.")
table = curves(negative_slope)
left, right = st.columns(2)
ui.chart(curve_charts.activation_curves_chart(table, "value",
                                             title="φ(z): keras.activations", subtitle=""),
         key="curves_value", filename="activations_phi", where=left)
ui.chart(curve_charts.activation_curves_chart(table, "slope",
                                             title="φ′(z): by tf.GradientTape", subtitle=""),
         key="curves_slope", filename="activations_slope", where=right)
grid = table[table["activation"] == "relu"]["z"]
st.caption(f"Read off the curves above, on a grid of {len(grid)} points from "
           f"z = {grid.min():g} to {grid.max():g}. Saturated uses the same rule as the "
           "profile pages: a slope under 5% of the activation's peak slope, on a tail "
           "(|z| ≥ 2).")
facts = engine.curve_facts(table)
st.dataframe(facts, hide_index=True, key="curve_facts", column_config={
    "peak slope": st.column_config.NumberColumn(format="%.4g"),
    "output range on the grid": st.column_config.TextColumn(width=150),
    "saturated (slope < 5% of peak) for": st.column_config.TextColumn(width=230)})
st.caption(f"{engine.NOT_COUNTED}: ReLU and Leaky ReLU are two straight pieces, so their "
           "slope has no tail it creeps toward; saturation is not counted for them.")
downloads = st.container(horizontal=True)
ui.download_csv(facts, "activations_slopes.csv", key="download_facts",
                label="Download this table (CSV)", help="One row per activation.",
                where=downloads)
ui.download_csv(table, f"activations_curves_slope_{negative_slope:g}.csv",
                key="download_curves", label="Download the curves (CSV)",
                help="φ(z) and φ′(z) at every grid point, per activation.",
                where=downloads)
defaults = engine.keras_leaky_relu_defaults()
left_slope = facts.set_index("activation")[f"slope at z = {grid.min():g}"]
st.markdown(
    f"- **Sigmoid** has a peak slope of 0.25, so every sigmoid layer divides the gradient "
    f"by at least 4; sigmoid and tanh slopes fall toward 0 on both tails (saturation).\n"
    f"- **ReLU** has slope 1 for z > 0 and exactly 0 for z ≤ 0: no saturation on the "
    f"right, a dead zone on the left.\n"
    f"- **Leaky ReLU** is the only one here whose slope never fades: it is the fixed "
    f"negative slope for every z < 0, so no unit can die. Defaults "
    f"differ: `keras.layers.LeakyReLU` uses {defaults['keras.layers.LeakyReLU']:g}, "
    f"`keras.activations.leaky_relu` {defaults['keras.activations.leaky_relu']:g} (read "
    f"from the installed Keras); the literature's usual value is 0.01 (the course notes' "
    f"0.001 is unusually small).\n"
    f"- **ELU** and **SELU** curve smoothly to a negative floor; SELU is "
    f"self-normalizing with `lecun_normal` weights (Klambauer et al. 2017). **GELU** "
    f"and **swish** dip slightly below zero on the left, so their slope there is "
    f"slightly negative. On the left, none of the four has a flat zero region (GELU's "
    f"and swish's slope is 0 only at the single point where it changes sign), but the "
    f"slope fades toward 0 as z becomes very negative: at z = {grid.min():g} it is "
    f"{left_slope['elu']:.2g} (ELU), {left_slope['selu']:.2g} (SELU), "
    f"{left_slope['gelu']:.2g} (GELU) and {left_slope['swish']:.2g} (swish), and the "
    f"table counts all four as saturated on the left.\n"
    f"- So can they die? By the strict rule used below (zero output *and* zero slope on "
    f"every example), rarely: ELU and SELU never output 0, and GELU and swish do only "
    f"where float32 rounds a tiny value to 0 (z below about −13.5 for GELU, −87 for "
    f"swish), as when a run is blowing up. What counts is the slope: far to the left it "
    f"is tiny (float32 even rounds ELU's and SELU's to 0 below about z = −17), so a "
    f"unit pushed there gets almost no gradient, like a saturated sigmoid, and can stay "
    f"stuck.")

st.header("Dying ReLU, live")
st.markdown(
    "A 6-layer network of 32 units (`he_normal`, or `lecun_normal` for SELU, "
    "`glorot_uniform` for sigmoid and tanh) learns the 8×8 handwritten digits "
    f"({1 - TEST_FRACTION:.0%} to train on, {TEST_FRACTION:.0%} held out to test) with "
    "plain SGD, batches of 64. A large learning rate throws units "
    "into the dead zone. The heatmap shows, at every step, the share of each layer's "
    "units that were dead on the whole batch (zero output and zero slope for every "
    "example). Try the three learning rates: at the small one the network learns; at "
    "the larger ones units die and accuracy collapses, or the loss becomes nan. Any "
    "click during a run stops it; the steps done so far are kept.")
with st.form("dying_relu"):
    row = st.columns(4)
    activation = controls.selectbox("Activation", "activation", engine.ACTIVATION_CHOICES,
                                    "relu", where=row[0])
    learning_rate = controls.select_slider("Learning rate", "learning_rate", RATES, 0.5,
                                           where=row[1])
    steps = controls.select_slider("Steps", "steps", STEPS, 300, where=row[2])
    seed = controls.number_input("Seed", "seed", 0, 9999, 0, where=row[3])
    buttons = st.columns(3)
    one = buttons[0].form_submit_button("Train this network", type="primary")
    three = buttons[1].form_submit_button(
        f"Train at learning rates {', '.join(f'{r:g}' for r in engine.DYING_RELU_RATES)}")
    every = buttons[2].form_submit_button("Train every activation at this rate")

ui.keras_code_expander(engine.training_model_spec(
    engine.activation_experiment(activation, negative_slope, int(seed)),
    engine.TrainingSpec(seed=int(seed)), 64))

runs = st.session_state.setdefault("activation_runs", {})
plans = []
if one:
    plans = [(activation, learning_rate)]
elif three:
    plans = [(activation, rate) for rate in engine.DYING_RELU_RATES]
elif every:
    plans = [(name, learning_rate) for name in engine.ACTIVATION_CHOICES]
for name, rate in plans:
    model = engine.activation_experiment(name, negative_slope, int(seed))
    spec = engine.TrainingSpec(learning_rate=rate, steps=steps, seed=int(seed))
    label = engine.run_label(model, spec)
    bar = st.progress(0.0, text=f"{label}: starting (building and tracing the network)")
    live, seen, last_draw = st.empty(), [], [0.0]

    def on_step(progress, bar=bar, live=live, seen=seen, last_draw=last_draw,
                label=label):
        seen.append(progress["dead_fraction"])
        now = time.perf_counter()
        if now - last_draw[0] > 0.4 or progress["step"] == progress["steps"]:
            last_draw[0] = now
            bar.progress(progress["step"] / progress["steps"],
                         text=f"{label}: {engine.progress_text(progress)}")
            dead = np.array(seen)
            partial = pd.DataFrame({"step": np.repeat(np.arange(1, len(dead) + 1),
                                                      dead.shape[1]),
                                    "layer": np.tile(np.arange(1, dead.shape[1] + 1),
                                                     len(dead)),
                                    "dead_fraction": dead.reshape(-1)})
            live.altair_chart(charts.layer_step_heatmap(
                partial, "dead_fraction", title=f"Dead units while training: {label}",
                legend="dead fraction", domain=[0, 1], scheme="reds"), width="stretch")
    try:
        with server.training_slot():
            result = engine.train(model, spec, on_step=on_step)
    except BaseException as error:  # a click elsewhere stops the run: keep its steps
        partial = getattr(error, "partial_result", None)
        if partial is not None and len(partial):
            runs[f"{label} (stopped at step {partial.attrs['steps_done']})"] = partial
        raise
    bar.empty()
    live.empty()
    runs.pop(label, None)
    runs[label] = result
    st.session_state["shown_run"] = label  # show the newest run
    while len(runs) > 10:
        runs.pop(next(iter(runs)))

if not runs:
    st.info("Press **Train this network** (2-5 seconds). Defaults: ReLU at learning "
            "rate 0.5, where units die.", icon="▶️")
else:
    labels = list(runs)
    shown = st.selectbox("Run to inspect", labels, index=len(labels) - 1, key="shown_run")
    result = runs[shown]
    if result.attrs.get("divergence"):
        st.error(result.attrs["divergence"]["message"].capitalize(), icon="💥")
    ui.chart(charts.layer_step_heatmap(
        result, "dead_fraction", title=f"Dead units per layer and step: {shown}",
        legend="dead fraction", domain=[0, 1], scheme="reds",
        subtitle="share of the layer's units with zero output and zero slope for every "
                 "example of the batch"), key="dead_heatmap",
        filename=f"activations_dead_units_{slug(shown)}")
    st.subheader("All runs of this session")
    summary = engine.dying_relu_summary(runs)
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
    ui.download_csv(result, f"activations_{slug(shown)}.csv", key="download_run",
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
