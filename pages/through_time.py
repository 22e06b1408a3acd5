"""Through time: recurrent networks multiply the gradient by the same matrix every step."""
import streamlit as st

from core import through_time
from core.charts import through_time as charts
from core.experiments import through_time as experiments
from core.recurrent_keras import keras_code
from pages import forensics, training_runs, ui

st.title("🔁 Through time: recurrent networks")
ui.intro(
    "A recurrent network applies **the same cell** at every time step: `h_t = cell(x_t, h_(t−1))`. "
    "Back-propagation through time multiplies the gradient by that cell's Jacobian once per step, "
    "so a sequence of T steps behaves like a network T layers deep whose layers all share one "
    "weight matrix. Below, a real Keras cell reads T random inputs; the loss depends only on the "
    "**last** state h_T, and we measure how much gradient reaches every earlier state h_t. If it "
    "vanishes, the network cannot learn that early inputs matter.")

DEFAULTS = through_time.ThroughTimeSpec()
BIASES, STDDEVS = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0), (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5)
controls = ui.Controls("through_time")
controls_column, charts_column = ui.beside()
row = ui.row(4, controls_column)
cell = controls.selectbox("Cell", "cell", through_time.CELLS, DEFAULTS.cell, where=row[0],
                          help="simple, lstm, gru: keras.layers SimpleRNNCell, LSTMCell, "
                               "GRUCell with Keras' default settings.")
activation = controls.selectbox("Activation", "activation", through_time.ACTIVATIONS, DEFAULTS.activation,
                                where=row[1],
                                help="The cell's activation (LSTM/GRU gates stay sigmoid).")
recurrent_init = controls.selectbox(
    "Recurrent initializer", "recurrent_init", through_time.RECURRENT_INITS, DEFAULTS.recurrent_init,
    where=row[2],
    help="Keras' default for recurrent kernels is orthogonal (gain 1). Note: Keras' "
         "identity on an LSTM/GRU kernel (units × 4·units) fills only the first gate block.")
controls.slider("Recurrent gain", "gain", 0.0, 2.0, DEFAULTS.gain, step=0.01, where=row[3],
                disabled=recurrent_init not in ("orthogonal", "identity"),
                help="orthogonal and identity: the recurrent kernel is gain × Q (or gain × I).")
row = ui.row(5, controls_column)
steps = controls.slider("Time steps T", "steps", 2, 200, DEFAULTS.steps, where=row[0])
controls.select_slider("Units", "units", (8, 16, 32, 64, 128), DEFAULTS.units, where=row[1])
controls.select_slider("LSTM forget-gate bias", "forget_bias", BIASES, DEFAULTS.forget_bias,
                       format_func="{:g}".format, where=row[2], disabled=cell != "lstm",
                       help="Keras' LSTM starts its forget-gate bias at 1 (unit_forget_bias=True).")
controls.select_slider("random_normal σ", "stddev", STDDEVS, DEFAULTS.stddev, where=row[3],
                       format_func="{:g}".format, disabled=recurrent_init != "random_normal",
                       help="random_normal: recurrent weights ~ N(0, σ²); Keras' default σ is 0.05.")
controls.number_input("Seed", "seed", 0, 9999, DEFAULTS.seed, where=row[4])

spec = through_time.ThroughTimeSpec(**controls.values)
with st.spinner("Unrolling the cells with TensorFlow..."):
    result = experiments.measure(spec)
table = result["table"]
for column, (label, value, help_text) in zip(ui.row(4, controls_column), result["metrics"]):
    column.metric(label, value, help=help_text)
for line in result["problems"]:
    controls_column.warning(line, icon="⚠️")

ui.chart(charts.signal_through_time(table, title=result["title"], theory=result["theory"],
                                    radius=result["attrs"]["spectral_radius"]),
         key="chart_through_time", filename=f"through_time_{cell}_T{steps}",
         where=charts_column)
st.caption(through_time.LOSS_DESCRIPTION)
st.markdown(experiments.THEORY_TEXT)
ui.download_csv(table, f"through_time_{cell}_T{steps}.csv", key="download_through_time",
                help="Every number behind the chart, one row per time step.")
with st.expander("Show the Keras code for this recurrent network"):
    st.caption("Runnable code that builds the same cell with keras.layers (same "
               "initializers, gain and seeds), unrolls it over the T steps and prints "
               "‖d(loss)/d(h_t)‖ for every step: the numbers in the chart above.")
    st.code(keras_code(spec), language="python")

st.header("Do gates keep the gradient alive?")
st.markdown(experiments.GATES_TEXT)
ui.chart(charts.compare_cells(result["cells"], title="SimpleRNN vs LSTM vs GRU"),
         key="chart_cells", filename=f"through_time_cells_T{steps}")
st.markdown(result["cells_sentence"])
ui.download_csv(result["cells"], f"through_time_cells_T{steps}.csv", key="download_cells",
                help="One row per cell and time step.")

st.subheader("What does keep an LSTM's gradient alive: an open forget gate")
st.markdown(experiments.FORGET_GATE_TEXT)
ui.chart(charts.forget_bias(result["biases"], title="LSTM: forget-gate bias"),
         key="chart_forget_bias", filename=f"through_time_forget_bias_T{steps}")
st.markdown(result["biases_sentence"])
ui.download_csv(result["biases"], f"through_time_forget_bias_T{steps}.csv",
                key="download_forget_bias", help="One row per forget-gate bias and time step.")

st.header("Clipping in action")
st.markdown(experiments.CLIPPING_TEXT)
with st.form("clipping_form"):
    row = st.columns(4)
    clip_gain = controls.slider("Recurrent gain", "clip_gain", 0.5, 2.5, 1.5, step=0.1,
                                where=row[0])
    learning_rate = controls.select_slider("Learning rate (SGD)", "clip_learning_rate",
                                           (0.01, 0.03, 0.1, 0.3, 1.0), 0.1, where=row[1])
    clip_norm = controls.select_slider("Clip threshold c", "clip_norm",
                                       (0.1, 0.3, 1.0, 3.0, 10.0), 1.0, where=row[2])
    train_steps = controls.select_slider("Training steps", "clip_train_steps",
                                         (50, 100, 200, 400), 200, where=row[3])
    start = st.form_submit_button("Train both runs", type="primary")
if start:
    clip_spec = experiments.ClippingSpec(gain=clip_gain, learning_rate=learning_rate,
                                         clip_norm=clip_norm, train_steps=train_steps)
    bar = st.progress(0.0, text="Training...")
    with training_runs.training_slot():
        clip_table = experiments.train_clipping(clip_spec, lambda done, total: bar.progress(
            done / total, text=f"Training: step {done} of {total}"))
    bar.empty()
    st.session_state["clipping_result"] = (clip_spec, clip_table)
if "clipping_result" in st.session_state:
    clip_spec, clip_table = st.session_state["clipping_result"]
    ui.not_in_link("the training runs (Train both runs redoes them)")
    report = experiments.clipping_report(clip_spec, clip_table)
    st.caption(report["caption"])
    for column, run in zip(st.columns(len(report["runs"])), report["runs"]):
        column.metric(run["label"], ui.format_number(run["final_loss"]),
                      help="Mean training loss over the last 10% of steps.")
        column.markdown(run["text"])
    forensics.show({"without clipping": clip_table}, "through_time")
    ui.chart(charts.clipping_norms(clip_table, title="Gradient norm per step"),
             key="chart_clipping_norms", filename="clipping_gradient_norms")
    ui.chart(charts.clipping_losses(clip_table, title="Training loss"),
             key="chart_clipping_losses", filename="clipping_losses")
    downloads = st.container(horizontal=True, gap="small")
    ui.download_csv(clip_table, "clipping_runs.csv", key="download_clipping", where=downloads,
                    label="Every step (CSV)", help="One row per run and training step.")
    ui.download_csv(report["summary"], "clipping_summary.csv", where=downloads,
                    key="download_clipping_summary", label="Summary (CSV)",
                    help="One row per run: the figures above.")

ui.download_all_charts("through_time")
st.info(
    "**Takeaway.** Through time, the gradient is multiplied by the same matrix at every step, so ρ "
    "< 1 vanishes and ρ > 1 can explode, exponentially in the sequence length. Gates do not fix "
    "this by themselves: an LSTM keeps its gradient when its forget gate is open. Clipping caps "
    "explosions (it rescales, keeping the direction); it does nothing for vanishing.", icon="💡")
ui.page_link("pages/home.py", label="Back to: Home", icon="🏠")
ui.page_link("pages/remedies.py", label="Back to: Remedies", icon="🩹")
