"""The problem: the multiplication effect, a^L through L layers."""
import streamlit as st

from core import summary
from core.charts import profiles as charts
from core.experiments.problem import chart_data, describe, format_limits, identity_spec
from core.per_layer import profile
from core.spec import ACTIVATIONS, DTYPES, ModelSpec
from pages import ui

MEASURING = "Measuring every layer with TensorFlow..."

st.title("✖️ The problem: gradients multiply")
ui.intro(
    "Back-propagation carries the gradient from the loss back to the first layer, "
    "multiplying it by every layer's weights on the way. Take a deep **linear** network "
    "with no bias whose every weight matrix is `a × I`. Then the output is `a^L · x`, and "
    "the gradient reaching layer *l* is `a^(L−l)` times the gradient at the top. With "
    "`a = 1.5` that explodes; with `a = 0.5` it vanishes. Below, a real Keras network "
    "does exactly this, in the number format you choose (32-bit floats by default, or "
    "the 16-bit float16 and bfloat16 that training uses), and the exact theory is drawn "
    "beside it.")

controls = ui.Controls("problem")


def set_gain(value: float) -> None:
    st.session_state[controls.key("gain")] = value


controls_column, charts_column = ui.beside()
row = ui.row([3, 3, 2], controls_column)
depth = controls.slider("Depth L (hidden layers)", "depth", 1, 150, 50, where=row[0],
                        help="Number of hidden layers, each W = a·I.")
gain = controls.slider("Diagonal value a", "gain", 0.0, 2.0, 1.5, step=0.01, where=row[1],
                       help="Every hidden weight matrix is a times the identity.")
with row[2]:
    dtype = controls.radio("Number format", "dtype", DTYPES, "float32", horizontal=True,
                           help="float32 overflows to inf above 3.4e38; below 1.2e-38 "
                                "TensorFlow on the CPU flushes it to exactly 0. float64 "
                                "reaches 1.8e308 and flushes below 2.2e-308. float16 "
                                "overflows above 65504 and rounds to 0 below 6e-8 "
                                "(subnormals, with fewer digits, from 6.1e-5). bfloat16 "
                                "has float32's range but about 2-3 significant digits.")
    presets = st.columns(2)
    presets[0].button("a = 1.5", on_click=set_gain, args=(1.5,), key="explode",
                      help="The notes' exploding example", width="stretch")
    presets[1].button("a = 0.5", on_click=set_gain, args=(0.5,), key="vanish",
                      help="The notes' vanishing example", width="stretch")
    pinned = ui.pin("problem", dict(depth=depth, gain=gain, dtype=dtype), describe)

spec = identity_spec(depth, gain, dtype)
with st.spinner(MEASURING):
    table = profile(spec)
    pinned_table = profile(identity_spec(**pinned)) if pinned else None
result = summary.summarize(table)

metrics = ui.row(3, controls_column)
metrics[0].metric("Output size ‖h_L‖", ui.format_number(result["output_norm"]),
                  help="L2 norm of the last hidden layer's output over the batch.")
metrics[1].metric("Gradient ratio layer 1 / layer L", ui.format_ratio(result),
                  help="‖dLoss/dh_1‖ / ‖dLoss/dh_L‖. Theory: a^(L−1).")
metrics[2].metric("Verdict", result["verdict"].capitalize(),
                  help="Vanishing below 1e-2, exploding above 1e2 or on overflow.")
for line in summary.describe_problems(result, dtype=dtype):
    controls_column.warning(line, icon="⚠️")

forward, backward = charts.identity_charts(chart_data(
    table, gain, table.attrs["input_norm"],
    pinned=(describe(pinned), pinned_table) if pinned else None), formats=summary.FORMATS)
left, right = ui.row(2, charts_column)
ui.chart(forward, key="chart_forward", filename=f"problem_forward_L{depth}_a{gain:g}",
         where=left)
ui.chart(backward, key="chart_backward", filename=f"problem_backward_L{depth}_a{gain:g}",
         where=right)
ui.download_csv(table, f"problem_identity_L{depth}_a{gain:g}.csv", key="download_identity")
ui.keras_code_expander(spec)
with st.expander("Where each number format fails, and where this network meets it"):
    st.dataframe(format_limits(depth, gain), hide_index=True, key="format_limits")
    st.caption("Limits from each format's finfo. *Theory* for a = "
               f"{gain:g}, L = {depth}: ‖h_l‖ = a^l·‖x‖ is inf (summed in the format) once it "
               "passes the largest value; every entry a^l·x is 0 once a^l·max|x| is below "
               "the flush point (— : not within these layers). The dotted lines on the "
               "charts mark these limits where the axis reaches them.")

st.header("Not only identity matrices")
st.markdown(
    "Real networks have random weights and a nonlinearity between layers. The same "
    "multiplication happens: each layer scales the signal by a factor that depends on "
    "the weights' spread and on the activation's slope. Change the spread of "
    "`random_normal` weights and watch the gradient at every layer (width 128).")
row = st.columns(2)
activation = controls.selectbox("Activation", "activation", ACTIVATIONS, "tanh",
                                where=row[0])
stddev = controls.select_slider(
    "Weight standard deviation σ_w", "stddev", [0.01, 0.02, 0.05, 0.08, 0.1, 0.12, 0.15,
                                                0.2, 0.3, 0.5, 1.0], 0.05, where=row[1],
    help="Weights are drawn from N(0, σ_w²). Keras' RandomNormal defaults to 0.05.")
random_spec = ModelSpec(depth=depth, width=128, batch_size=128, activation=activation,
                        init="random_normal", stddev=stddev, dtype=dtype)
with st.spinner(MEASURING):
    random_table = profile(random_spec)
random_result = summary.summarize(random_table)
st.metric("Gradient ratio layer 1 / layer L, random weights",
          ui.format_ratio(random_result),
          help="‖dLoss/dh_1‖ / ‖dLoss/dh_L‖")
for line in summary.describe_problems(random_result, dtype=dtype):
    st.warning(line, icon="⚠️")
ui.chart(charts.gradients_chart(
    random_table,
    f"Gradients per layer: {activation}, N(0, {stddev:g}²) weights, depth {depth}, {dtype}",
    formats=summary.FORMATS),
    key="chart_random", filename=f"problem_random_L{depth}_{activation}_{stddev:g}")
ui.download_csv(random_table, f"problem_random_L{depth}_{activation}_{stddev:g}.csv",
                key="download_random")
ui.keras_code_expander(random_spec)

ui.download_all_charts("problem")
st.info(
    "**Takeaway.** Through many layers, any per-layer factor away from 1 compounds: "
    "weights too big explode, weights too small vanish. Training needs the weights to "
    "start in the *Goldilocks zone*, where each layer passes the signal on at the same "
    "size. Choosing that starting point is **weight initialization**.", icon="💡")
ui.page_link("pages/initialization.py", label="Next: Initialization", icon="🎚️")
