"""Why it happens: saturating slopes, Glorot & Bengio's experiment, variance propagation."""
import pandas as pd
import streamlit as st

from core import initialization as init_core
from core.charts import curves as curve_charts
from core.charts import profiles as charts
from core import summary
from core.charts.base import log_chart
from core.initialization import glorot_bengio_specs, with_theory
from core.per_layer import SATURATION_DEFINITION
from core.spec import ACTIVATIONS, INITS, ModelSpec
from pages import ui

CURVES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu")
WIDTHS = (64, 128, 256)
LAYER = "hidden layer l (1 = nearest the input)"

st.title("🔍 Why it happens")
st.markdown(
    "Back-propagation multiplies the gradient, layer after layer, by the weights **and** by "
    "the slope of the activation. Two things decide whether that product vanishes or "
    "explodes: how flat the activation is where the units sit, and how large the weights "
    "are. Below, real Keras networks show both, and the mean-field theory (labelled "
    "*theory*) is drawn beside what was measured.")

controls = ui.Controls("why")


@st.cache_data(max_entries=2, show_spinner="Evaluating the Keras activations...")
def activation_curves():
    from core.activations import activation_curves as compute
    return compute(CURVES)


@st.cache_data(max_entries=16, show_spinner="Running Glorot & Bengio's three networks...")
def glorot_bengio(activation: str, depth: int):
    from core.initialization import glorot_bengio as compute, glorot_bengio_summary
    histograms, profiles = compute(activation, depth)
    return histograms, profiles, glorot_bengio_summary(profiles)


st.header("1. Activations and their slopes")
curves = activation_curves()
left, right = st.columns(2)
ui.chart(curve_charts.activation_curves_chart(curves, "value"), key="chart_curves",
         filename="activations", where=left)
ui.chart(curve_charts.activation_curves_chart(
    curves, "slope", title="Their slopes φ′(z); dashed: 0.25, sigmoid's peak slope",
    guide=0.25), key="chart_slopes",
         filename="activation_slopes", where=right)
ui.download_csv(curves, "activation_curves.csv", key="download_curves",
                label="Download the curves (CSV)",
                help="φ(z) and φ′(z) for every activation, z from −5 to 5.")
st.markdown(
    "Sigmoid's slope is at most 0.25 (at z = 0) and tanh's at most 1; both go flat in the "
    "tails (*saturation*). ReLU's slope is exactly 1 for z > 0 and 0 below; Leaky ReLU "
    "keeps a small slope (0.01 here) on the left; ELU and SELU curve smoothly below zero.")
st.latex(r"\sigma'(z)=\sigma(z)\,(1-\sigma(z))\le\tfrac14\quad\Longrightarrow\quad"
         r"\prod_{l=1}^{L}\sigma'(z_l)\le 0.25^{L}\qquad\text{(theory)}")

st.header("2. Glorot & Bengio's experiment, live")
st.markdown(
    "Glorot & Bengio (2010) blamed the sigmoid together with weights drawn from N(0, 1). "
    "Here are their networks at initialization: width 100, inputs from N(0, 1), and three "
    "initializations: N(0, 1), the then-standard U[−1/√n, 1/√n] and their normalized "
    "(Glorot) initialization.")
row = st.columns(2)
gb_activation = controls.radio("Activation", "gb_activation", ("sigmoid", "tanh"),
                               "sigmoid", where=row[0], horizontal=True)
gb_depth = controls.slider("Hidden layers", "gb_depth", 2, 20, 8, where=row[1])
histograms, gb_profiles, gb_summary = glorot_bengio(gb_activation, gb_depth)
columns = st.columns(3)
for index, (column, name) in enumerate(zip(columns, dict.fromkeys(histograms["init"]))):
    ui.chart(charts.histogram_chart(histograms[histograms["init"] == name],
                                    f"{gb_activation}, {name}"),
             key=f"chart_histogram_{index}", where=column,
             filename=f"glorot_bengio_histogram_{gb_activation}_L{gb_depth}_{index + 1}")
left, right = st.columns(2)
ui.chart(charts.by_init_chart(gb_profiles, "saturated_fraction",
                              "Saturated units per layer", "saturated units",
                              fraction=True),
         key="chart_saturated", where=left,
         filename=f"glorot_bengio_saturated_{gb_activation}_L{gb_depth}")
saturation = gb_profiles.pivot(index="layer", columns="init", values="saturated_fraction")
names = list(saturation.columns)
overlapping = [f"{a} and {b}" for i, a in enumerate(names) for b in names[i + 1:]
               if (saturation[a] - saturation[b]).abs().max() < 0.005]
left.caption(SATURATION_DEFINITION + (
    f" Here the lines of {'; '.join(overlapping)} coincide (within 0.5% at every "
    f"layer): they are told apart by dash and marker." if overlapping else ""))
ui.chart(log_chart(
    charts.measured_and_theory(gb_profiles, "signal_grad_norm", None, "signal ‖dL/dh_l‖"),
    x="layer", x_title=LAYER, y_title="‖dLoss/dh_l‖ (L2 norm)",
    title="Back-propagated signal per layer", subtitle="measured with tf.GradientTape",
    height=360),
    key="chart_gb_signal", filename=f"glorot_bengio_signal_{gb_activation}_L{gb_depth}",
    where=right)
st.dataframe(gb_summary, hide_index=True, width="stretch", column_config={
    "initialization": st.column_config.TextColumn(pinned=True),
    **{name: st.column_config.NumberColumn(format="%.3g") for name in gb_summary.columns
       if name != "initialization"}})
st.caption("Ratios are layer 1 / last layer; the signal is ‖dLoss/dh_l‖, the weight "
           "gradient ‖dLoss/dW_l‖. Scroll the table sideways for the per-layer "
           "statistics.")
downloads = st.container(horizontal=True, gap="small")
ui.download_csv(gb_profiles, f"glorot_bengio_layers_{gb_activation}_L{gb_depth}.csv",
                key="download_gb_layers", label="Per-layer table (CSV)", where=downloads)
ui.download_csv(gb_summary, f"glorot_bengio_summary_{gb_activation}_L{gb_depth}.csv",
                key="download_gb_summary", label="Summary (CSV)", where=downloads,
                help="The table above: one row per initialization.")
ui.download_csv(histograms, f"glorot_bengio_histograms_{gb_activation}_L{gb_depth}.csv",
                key="download_gb_histograms", label="Histograms (CSV)", where=downloads,
                help="Share of outputs per bin, per layer and initialization.")
ui.keras_code_expander(glorot_bengio_specs(gb_activation, gb_depth))

normal = gb_summary.iloc[0]
uniform = gb_summary.iloc[1]
last = gb_depth
if gb_activation == "sigmoid":
    st.info(
        f"**The notes vs the measurement.** The notes say that with N(0, 1) weights the "
        f"variance grows layer after layer until the top layers saturate. Measured here, "
        f"the pre-activations are already wide at layer 1 (std "
        f"{ui.format_number(normal['pre-activation std, layer 1'])}, of order √n) and "
        f"stay so (std {ui.format_number(normal[f'pre-activation std, layer {last}'])} "
        f"at layer {last}); the outputs pile up at 0 and 1 with an activation std of "
        f"{ui.format_number(normal['activation std, layer 1'])} at layer 1 and "
        f"{ui.format_number(normal[f'activation std, layer {last}'])} at layer {last}: "
        f"no growth. The back-propagated signal barely changes (ratio layer 1 / layer "
        f"{last}: {ui.format_number(normal['signal ratio 1 / L'])}) while the weight "
        f"gradient at layer 1 is {ui.format_number(normal['weight-gradient ratio 1 / L'])}"
        f"× that at layer {last}. With U[−0.1, 0.1] the outputs collapse toward 0.5 "
        f"(mean {ui.format_number(uniform[f'activation mean, layer {last}'])}, std "
        f"{ui.format_number(uniform[f'activation std, layer {last}'])} at layer {last}) "
        f"and the signal ratio is {ui.format_number(uniform['signal ratio 1 / L'])}: it "
        f"vanishes because sigmoid's slope is at most 0.25. The top-layer "
        f"saturation of their Figure 2 appears **during training**.", icon="🔎")
else:
    st.info(
        f"tanh is zero-centred: its outputs have mean near 0 (measured "
        f"{ui.format_number(normal[f'activation mean, layer {last}'])} at layer {last} "
        f"with N(0, 1) weights) where sigmoid's sit at 0.5, so the next layer's inputs "
        f"are not all positive. With the standard init the signal ratio is "
        f"{ui.format_number(uniform['signal ratio 1 / L'])}; with Glorot's "
        f"{ui.format_number(gb_summary.iloc[2]['signal ratio 1 / L'])}.", icon="🔎")
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
row = st.columns(4)
activation = controls.selectbox("Activation", "activation", ACTIVATIONS, "tanh",
                                where=row[0])
init = controls.selectbox("Initialization", "init", INITS, "random_normal", where=row[1])
depth = controls.slider("Depth", "depth", 2, 100, 30, where=row[2])
width = controls.select_slider("Width", "width", WIDTHS, 128, where=row[3])
spec = ModelSpec(depth=depth, width=width, batch_size=128, activation=activation, init=init)
table = with_theory(spec, ui.profile(spec)).assign(init=init)
result = summary.summarize(table)
seeds = [spec.replace(seed=spec.seed + k) for k in range(init_core.SEEDS)]
weights = init_core.ratio_over_seeds([table] + [ui.profile(one) for one in seeds[1:]])
signals = init_core.ratio_over_seeds([table] + [ui.profile(one) for one in seeds[1:]],
                                     "signal_grad_norm")
metrics = st.columns(3)
metrics[0].metric("Signal ratio layer 1 / L (measured)", ui.format_number(result["ratio"]))
theory_ratio = table["theory_signal"].iloc[0] / table["theory_signal"].iloc[-1]
metrics[1].metric("Signal ratio (theory)", ui.format_number(theory_ratio),
                  help="Mean-field prediction; not available with batch norm or skips.")
metrics[2].metric(
    f"Weight-gradient ratio 1 / L (median of {init_core.SEEDS} seeds)",
    ui.format_number(weights["median"]),
    help="‖dLoss/dW_1‖ / ‖dLoss/dW_L‖, measured for seeds " + ", ".join(
        f"{one.seed}: {ui.format_number(value)}"
        for one, value in zip(seeds, weights["per_seed"])) + ". One network's value is "
    "noisy: per-layer log-norms fluctuate by about √(depth / width) from seed to seed.")
for line in summary.describe_problems(result):
    st.warning(line, icon="⚠️")
long = charts.measured_and_theory(table, "signal_grad_norm", "theory_signal",
                                  "signal ‖dL/dh_l‖")
long = long.assign(series=long["series"].str.replace(f"{init}: ", ""))
weight_rows = charts.measured_and_theory(table, "weight_grad_norm", None, "weight "
                                         "gradient ‖dL/dW_l‖")
long = pd.concat([long, weight_rows.assign(series="weight gradient ‖dL/dW_l‖")],
                 ignore_index=True)
ui.chart(log_chart(long, x="layer", x_title=LAYER, y_title="L2 norm", dash="kind",
                   title=f"Gradients per layer: {activation}, {init}, {depth} × {width}",
                   subtitle="measured in Keras (solid) vs mean-field theory √χ products "
                            "(dashed)", height=420),
         key="chart_variance", filename=f"why_{activation}_{init}_L{depth}_n{width}")
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
seed_text = ", ".join(ui.format_number(v) for v in weights["per_seed"])
signal_text = ", ".join(ui.format_number(v) for v in signals["per_seed"])
if weights["flat"]:
    verdict = (f"Here the weight gradient **is flat** within the seed-to-seed noise "
               f"(a factor of 2): its ratio layer 1 / layer {depth} "
               f"is {ui.format_number(weights['median'])} (median of seeds "
               f"{seeds[0].seed} to {seeds[-1].seed}: {seed_text}) while the signal's "
               f"ratio for the same seeds is {signal_text}.")
else:
    verdict = (f"Here the weight gradient is **not** flat: its ratio layer 1 / layer "
               f"{depth} is {ui.format_number(weights['median'])} (median of seeds "
               f"{seeds[0].seed} to {seeds[-1].seed}: {seed_text}; the signal's for the "
               f"same seeds: {signal_text}). The product h_(l−1)·δ_l stays constant only when the "
               f"forward signal grows toward the input as fast as δ_l shrinks (or the "
               f"reverse); that holds near the linear regime (small weights, tanh), not "
               f"for every activation and initialization.")
st.markdown(verdict)
st.caption(
    f"Noise: the norms of one finite network fluctuate from seed to seed; per-layer "
    f"log-norms vary by about √(depth / width) = √({depth} / {width}) ≈ "
    f"{(depth / width) ** 0.5:.2f}, so a single seed's ratio of two layers can be off by "
    f"a factor of 2 or more. The chart shows seed {spec.seed}; the weight-gradient "
    f"figure is the median over {init_core.SEEDS} seeds.")
ui.download_csv(table, f"why_{activation}_{init}_L{depth}_n{width}.csv",
                key="download_why")
ui.keras_code_expander(spec)

st.header("4. The same multiplication through time")
st.markdown(
    "A recurrent network applies the same weight matrix at every time step, so the "
    "gradient through T steps is a product of T Jacobians: it vanishes or explodes with "
    "the sequence length exactly as here with depth (Pascanu et al. 2013).")
ui.page_link("pages/through_time.py", label="Recurrent networks: gradients through time",
             icon="🔁")
ui.download_all_charts("why")
st.info("**Takeaway.** The gradient shrinks when the activation's slope is small where "
        "units sit (saturation) or when the weights are too small; it grows when they are "
        "too large. The per-layer factor χ says which, and initialization sets it.",
        icon="💡")
ui.page_link("pages/initialization.py", label="Next: Initialization", icon="🎚️")
