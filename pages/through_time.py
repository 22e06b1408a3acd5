"""Through time: recurrent networks multiply the gradient by the same matrix every step."""
import numpy as np
import streamlit as st

from core import through_time as tt
from core.charts import through_time as charts
from core.summary import verdict_of
from pages import server, ui

st.title("🔁 Through time: recurrent networks")
st.markdown(
    "A recurrent network applies **the same cell** at every time step: "
    "`h_t = cell(x_t, h_(t−1))`. Back-propagation through time multiplies the gradient by "
    "that cell's Jacobian once per step, so a sequence of T steps behaves like a network "
    "T layers deep whose layers all share one weight matrix. Below, a real Keras cell "
    "reads T random inputs; the loss depends only on the **last** state h_T, and we "
    "measure how much gradient reaches every earlier state h_t. If it vanishes, the "
    "network cannot learn that early inputs matter.")

DEFAULTS = tt.ThroughTimeSpec()
BIASES = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)
STDDEVS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5)


controls = ui.Controls("through_time")


@st.cache_data(max_entries=32, show_spinner="Unrolling the cells with TensorFlow...")
def measure(spec: tt.ThroughTimeSpec) -> dict:
    """The chosen cell, the three cells compared and the LSTM forget-bias sweep."""
    table = tt.through_time(spec)
    return {"table": table, "attrs": dict(table.attrs), "cells": tt.compare_cells(spec.replace(forget_bias=1.0)),
            "biases": tt.forget_bias_sweep(spec)}


row = st.columns(4)
cell = controls.selectbox("Cell", "cell", tt.CELLS, DEFAULTS.cell, where=row[0],
                          help="simple, lstm, gru: keras.layers SimpleRNNCell, LSTMCell, "
                               "GRUCell with Keras' default settings.")
activation = controls.selectbox("Activation", "activation", tt.ACTIVATIONS,
                                DEFAULTS.activation, where=row[1],
                                help="The cell's activation (LSTM/GRU gates stay sigmoid).")
recurrent_init = controls.selectbox(
    "Recurrent initializer", "recurrent_init", tt.RECURRENT_INITS, DEFAULTS.recurrent_init,
    where=row[2],
    help="Keras' default for recurrent kernels is orthogonal (gain 1). Note: Keras' "
         "identity on an LSTM/GRU kernel (units × 4·units) fills only the first gate block.")
gain = controls.slider("Recurrent gain", "gain", 0.0, 2.0, DEFAULTS.gain, step=0.01,
                       where=row[3], disabled=recurrent_init not in ("orthogonal", "identity"),
                       help="orthogonal and identity: the recurrent kernel is gain × Q "
                            "(or gain × I).")
row = st.columns(5)
steps = controls.slider("Time steps T", "steps", 2, 200, DEFAULTS.steps, where=row[0])
units = controls.select_slider("Units", "units", (8, 16, 32, 64, 128), DEFAULTS.units,
                               where=row[1])
forget_bias = controls.select_slider(
    "LSTM forget-gate bias", "forget_bias", BIASES, DEFAULTS.forget_bias,
    format_func="{:g}".format, where=row[2], disabled=cell != "lstm",
    help="Keras' LSTM starts its forget-gate bias at 1 (unit_forget_bias=True).")
stddev = controls.select_slider(
    "random_normal σ", "stddev", STDDEVS, DEFAULTS.stddev, format_func="{:g}".format,
    where=row[3], disabled=recurrent_init != "random_normal",
    help="random_normal: recurrent weights ~ N(0, σ²); Keras' default σ is 0.05.")
seed = controls.number_input("Seed", "seed", 0, 9999, DEFAULTS.seed, where=row[4])

spec = tt.ThroughTimeSpec(cell=cell, activation=activation, recurrent_init=recurrent_init,
                          gain=gain, stddev=stddev, steps=steps, units=units,
                          forget_bias=forget_bias, seed=int(seed))
result = measure(spec)
table, attrs = result["table"], result["attrs"]
ratio = tt.step_ratio(table)
values = table["signal_grad_norm"]
verdict = verdict_of(ratio, bool((~np.isfinite(values)).any()), bool((values == 0).any()))

metrics = st.columns(4)
metrics[0].metric("Gradient ratio step 1 / step T", ui.format_number(ratio),
                  help="‖d(loss)/d(h_1)‖ / ‖d(loss)/d(h_T)‖")
metrics[1].metric("Verdict", verdict.capitalize(),
                  help="Vanishing below 1e-2, exploding above 1e2 or on overflow.")
metrics[2].metric("Spectral radius ρ", ui.format_number(attrs["spectral_radius"]),
                  help=f"Largest |eigenvalue| of {attrs['recurrent_matrix']}.")
metrics[3].metric("Largest singular value", ui.format_number(
    attrs["largest_singular_value"]), help=f"Of {attrs['recurrent_matrix']}.")
for line in tt.problems(table, spec):
    st.warning(line, icon="⚠️")

linear = activation == "linear" and cell == "simple"
theory = tt.theory_line(table, attrs["spectral_radius"]) if linear else None
ui.chart(charts.signal_through_time(
    table, title=f"Gradient through time: {tt.CELL_NAMES[cell]}, {activation}, "
                 f"{recurrent_init}, T = {steps}, {units} units",
    theory=theory, radius=attrs["spectral_radius"]),
    key="chart_through_time", filename=f"through_time_{cell}_T{steps}")
st.caption(tt.LOSS_DESCRIPTION)
st.markdown(
    "**Theory** (Pascanu, Mikolov & Bengio 2013). For a linear cell, "
    "`d(loss)/d(h_t) = (W_hhᵀ)^(T−t) · d(loss)/d(h_T)`: with spectral radius ρ < 1 the "
    "gradient **vanishes** like ρ^(T−t); ρ > 1 is **needed** for it to explode. For "
    "`gain × orthogonal` every singular value equals the gain, so the dashed line is "
    "exact (choose *linear*). A saturating tanh only shrinks the gradient further: its "
    "slope is at most 1.")
ui.download_csv(table, f"through_time_{cell}_T{steps}.csv", key="download_through_time",
                help="Every number behind the chart, one row per time step.")
with st.expander("Show the Keras code for this recurrent network"):
    st.caption("Runnable code that builds the same cell with keras.layers (same "
               "initializers, gain and seeds), unrolls it over the T steps and prints "
               "‖d(loss)/d(h_t)‖ for every step: the numbers in the chart above.")
    st.code(tt.keras_code(spec), language="python")

st.header("Do gates keep the gradient alive?")
st.markdown(
    "LSTM and GRU were designed for long memories, but at initialization the gates alone "
    "do **not** keep the gradient alive. Here are all three cells at the settings above "
    "(same inputs, initializer and loss; the LSTM with Keras' default forget bias 1):")
ui.chart(charts.compare_cells(result["cells"], title="SimpleRNN vs LSTM vs GRU"),
         key="chart_cells", filename=f"through_time_cells_T{steps}")
ratios = {name: tt.step_ratio(group) for name, group in result["cells"].groupby("cell",
                                                                                 sort=False)}
st.markdown("Measured ratio step 1 / step T: " + ", ".join(
    f"**{name}** {ui.format_number(value)}" for name, value in ratios.items()) + ".")
ui.download_csv(result["cells"], f"through_time_cells_T{steps}.csv", key="download_cells",
                help="One row per cell and time step.")

st.subheader("What does keep an LSTM's gradient alive: an open forget gate")
st.markdown(
    "The LSTM's cell state is updated as `c_t = f_t ⊙ c_(t−1) + i_t ⊙ g_t`: along the cell "
    "state the gradient is multiplied by the forget gate f_t = σ(… + b_f) at each step. "
    "With b_f = 0 the gate is about 0.5 and the gradient halves every step; a larger "
    "bias opens the gate (σ(3) ≈ 0.95, σ(5) ≈ 0.99) and lets it through.")
ui.chart(charts.forget_bias(result["biases"], title="LSTM: forget-gate bias"),
         key="chart_forget_bias", filename=f"through_time_forget_bias_T{steps}")
bias_ratios = {b: tt.step_ratio(g) for b, g in result["biases"].groupby("forget_bias")}
st.markdown("Measured ratio step 1 / step T: " + ", ".join(
    f"bias **{b:g}** → {ui.format_number(value)}" for b, value in bias_ratios.items()) + ".")
ui.download_csv(result["biases"], f"through_time_forget_bias_T{steps}.csv",
                key="download_forget_bias",
                help="One row per forget-gate bias and time step.")

st.header("Clipping in action")
st.markdown(
    "Exploding gradients are where **gradient clipping** was invented: if the gradient's "
    "global norm ‖g‖ exceeds a threshold c, rescale it to `c · g / ‖g‖` (Pascanu et al. "
    "2013; Keras: `optimizer(global_clipnorm=c)`). Train a SimpleRNN twice from the same "
    "weights on the same batches, once without and once with clipping. " + tt.CLIPPING_TASK)
with st.form("clipping_form"):
    row = st.columns(4)
    clip_gain = row[0].slider("Recurrent gain", 0.5, 2.5, 1.5, step=0.1, key="clip_gain")
    learning_rate = row[1].select_slider("Learning rate (SGD)", (0.01, 0.03, 0.1, 0.3, 1.0),
                                         0.1, key="clip_learning_rate")
    clip_norm = row[2].select_slider("Clip threshold c", (0.1, 0.3, 1.0, 3.0, 10.0), 1.0,
                                     key="clip_norm")
    train_steps = row[3].select_slider("Training steps", (50, 100, 200, 400), 200,
                                       key="clip_train_steps")
    start = st.form_submit_button("Train both runs", type="primary")
if start:
    clip_spec = tt.ClippingSpec(gain=clip_gain, learning_rate=learning_rate,
                                clip_norm=clip_norm, train_steps=train_steps)
    bar = st.progress(0.0, text="Training...")
    with server.training_slot():
        clip_table = tt.train_clipping(clip_spec, on_step=lambda done, total: bar.progress(
            done / total, text=f"Training: step {done} of {total}"))
    bar.empty()
    st.session_state["clipping_result"] = (clip_spec, clip_table)
if "clipping_result" in st.session_state:
    clip_spec, clip_table = st.session_state["clipping_result"]
    st.caption(f"Results for gain {clip_spec.gain:g}, learning rate "
               f"{clip_spec.learning_rate:g}, threshold {clip_spec.clip_norm:g}, "
               f"{clip_spec.train_steps} steps, {clip_spec.units} units, sequences of "
               f"{clip_spec.sequence_length}.")
    summary = tt.clipping_summary(clip_table)
    columns = st.columns(len(summary))
    for column, record in zip(columns, summary.to_dict(orient="records")):
        column.metric(f"{record['run']}: final loss", ui.format_number(record["final_loss"]),
                      help="Mean training loss over the last 10% of steps.")
        broke = record["nonfinite_steps"] > 0
        column.markdown(
            f"Steps clipped: **{record['clipped_fraction']:.0%}** · largest finite ‖g‖: "
            f"{ui.format_number(record['largest_finite_grad_norm'])}" +
            (f" · **overflow from step {record['first_nonfinite_step']:.0f}**: the loss or "
             f"‖g‖ is inf/nan at {record['nonfinite_steps']} of {clip_spec.train_steps} "
             f"steps"
             if broke else " · no overflow"))
    ui.chart(charts.clipping_norms(clip_table, title="Gradient norm per step"),
             key="chart_clipping_norms", filename="clipping_gradient_norms")
    ui.chart(charts.clipping_losses(clip_table, title="Training loss"),
             key="chart_clipping_losses", filename="clipping_losses")
    downloads = st.container(horizontal=True, gap="small")
    ui.download_csv(clip_table, "clipping_runs.csv", key="download_clipping",
                    label="Every step (CSV)", where=downloads,
                    help="One row per run and training step.")
    ui.download_csv(summary, "clipping_summary.csv", key="download_clipping_summary",
                    label="Summary (CSV)", where=downloads,
                    help="One row per run: the figures above.")

ui.download_all_charts("through_time")
st.info(
    "**Takeaway.** Through time, the gradient is multiplied by the same matrix at every "
    "step, so ρ < 1 vanishes and ρ > 1 can explode, exponentially in the sequence length. "
    "Gates do not fix this by themselves: an LSTM keeps its gradient when its forget gate "
    "is open. Clipping caps explosions (it rescales, keeping the direction); it does "
    "nothing for vanishing.", icon="💡")
ui.page_link("pages/home.py", label="Back to: Home", icon="🏠")
ui.page_link("pages/remedies.py", label="Back to: Remedies", icon="🩹")
