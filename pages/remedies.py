"""Remedies: a baseline that fails, and each remedy applied on the same seed and data."""
import pandas as pd
import streamlit as st

from core import training as engine
from core import training_charts as charts
from pages import ui

st.title("🩹 Remedies: what fixes vanishing and exploding gradients")
st.markdown(
    "The course notes list five remedies: ReLU, a proper initialization, batch "
    "normalization, gradient clipping and L2 regularization; residual connections are a "
    "sixth. Here a network that fails is trained once as it is (the **baseline**), then "
    "once per remedy, changing only that one thing, on the same seed, the same data and "
    "the same batches. Every number is measured while a Keras network trains on the 8×8 "
    "handwritten digits (chance is 10%).")

STEPS = [100, 200, 300, 400, 500, 1000]
SCENARIO_NAMES = {"vanishing": "deep sigmoid, 'standard' init",
                  "exploding": "deep ReLU, weights too large"}
DEFAULTS = {"scenario": "vanishing", "steps": 400, "seed": 0}
ui.check_query_params({"scenario": ui.choice_param(engine.SCENARIOS),
                       "steps": ui.choice_param(STEPS), "seed": ui.int_param(0, 9999)},
                      DEFAULTS)

# No format_func: a bound radio writes its *label* to the URL, so labels are the keys.
scenario = st.radio("Baseline that fails", list(engine.SCENARIOS), key="scenario",
                    bind="query-params", horizontal=True,
                    captions=[SCENARIO_NAMES[name] for name in engine.SCENARIOS])
description, _, _, options = engine.SCENARIOS[scenario]
st.caption(f"Baseline: {description}.")
with st.form("remedies"):
    remedies = st.multiselect("Remedies, one at a time", [o[0] for o in options],
                              default=[o[0] for o in options], key=f"remedies_{scenario}")
    row = st.columns(2)
    steps = row[0].select_slider("Steps", STEPS, value=DEFAULTS["steps"], key="steps",
                                 bind="query-params")
    seed = row[1].number_input("Seed", 0, 9999, DEFAULTS["seed"], key="seed",
                               bind="query-params")
    start = st.form_submit_button("Train the baseline and each remedy", type="primary")


model_changes = {label: model for label, (model, training) in
                 engine.scenario_runs(scenario).items()
                 if label == engine.BASELINE or model != engine.SCENARIOS[scenario][1]}
st.altair_chart(charts.init_profile_chart(
    {label: ui.profile(model.replace(input_dim=64, batch_size=256))
     for label, model in model_changes.items()}), width="stretch")
st.caption("Remedies that change the network are drawn here; clipping and L2 act only "
           "during training. Train to see what each one does over time.")


def train_all(runs: dict, state_key: str) -> dict:
    """Train every (label -> specs) with a progress bar; keep the tables in the session."""
    tables = {}
    bar = st.progress(0.0, text="Starting...")
    for number, (label, (model, training)) in enumerate(runs.items()):
        def on_step(progress, label=label, number=number):
            if progress["step"] % 10 == 0 or progress["step"] == progress["steps"]:
                bar.progress((number + progress["step"] / progress["steps"]) / len(runs),
                             text=f"Run {number + 1} of {len(runs)}, {label}: "
                                  f"{engine.progress_text(progress)}")
        try:
            tables[label] = engine.train(model, training, on_step=on_step)
        except BaseException as error:  # a click elsewhere stops the runs: keep theirs
            partial = getattr(error, "partial_result", None)
            if partial is not None and len(partial):
                tables[f"{label} (stopped)"] = partial
            if tables:
                st.session_state[state_key] = tables
            raise
    bar.empty()
    st.session_state[state_key] = tables
    return tables


if start:
    runs = engine.scenario_runs(scenario, remedies, int(seed))
    runs = {label: (model, training.replace(steps=steps, eval_every=max(1, steps // 20)))
            for label, (model, training) in runs.items()}
    st.session_state["remedy_scenario"] = scenario
    train_all(runs, "remedy_runs")

tables = st.session_state.get("remedy_runs")
if not tables:
    st.info("Press **Train the baseline and each remedy** (about 15-30 seconds).",
            icon="▶️")
else:
    trained = st.session_state.get("remedy_scenario", scenario)
    if trained != scenario:
        st.caption(f"Showing the last runs trained: {SCENARIO_NAMES[trained]}.")
    st.subheader("Which remedy fixed what")
    summary = engine.compare_runs(tables)
    st.dataframe(summary, hide_index=True, key="remedy_summary", column_config={
        "test accuracy": st.column_config.NumberColumn(format="percent"),
        f"batch accuracy, last {engine.RECENT} steps": st.column_config.NumberColumn(
            format="percent"),
        "steps clipped": st.column_config.NumberColumn(format="percent"),
        "most dead units": st.column_config.NumberColumn(format="percent"),
        "final loss": st.column_config.NumberColumn(format="%.3g"),
        "weight-grad ratio layer 1 / top, step 1": st.column_config.NumberColumn(
            format="%.2e"),
        "signal ratio layer 1 / top, step 1": st.column_config.NumberColumn(format="%.2e"),
        "seconds": st.column_config.NumberColumn(format="%.1f")})
    st.altair_chart(charts.loss_chart(tables), width="stretch")
    st.altair_chart(charts.accuracy_chart(tables), width="stretch")

    st.subheader("Inside the network, layer by layer")
    labels = list(tables)
    baseline = labels[0]  # the baseline is always trained first
    other = st.selectbox("Compare the baseline with", labels[1:] or labels,
                         key="remedy_shown")
    for column, label in zip(st.columns(2), [baseline, other]):
        table = tables[label]
        column.altair_chart(charts.layer_step_heatmap(
            table, "weight_grad_norm", title=f"log10 ‖dLoss/dW_l‖: {label}",
            legend="log10 weight gradient", log10=True, scheme="viridis",
            subtitle="black: 0, inf or nan"), width="stretch")
        column.altair_chart(charts.update_ratio_chart(table, f"Update-to-weight ratio: "
                                                             f"{label}"), width="stretch")
    clipped = {label: t for label, t in tables.items()
               if engine.TrainingSpec(**t.attrs["training_spec"]).clipping}
    if clipped:
        st.subheader("Clipping, shown honestly")
        rate = next(iter(clipped.values())).attrs["training_spec"]["learning_rate"]
        st.altair_chart(charts.clipping_chart(clipped, rate), width="stretch")
        st.markdown(
            "`global_clipnorm` rescales the whole gradient when its norm exceeds c, so "
            "the direction is kept (Pascanu et al. 2013). `clipnorm` rescales each "
            "weight's gradient on its own and `clipvalue` cuts every entry to [−c, c]: "
            "both change the direction. Clipping caps the step; it does not fix the "
            "weights that made the gradient large. The table's *steps clipped* column "
            "says how often it acted.")
    if "batch normalization" in tables:
        st.subheader("Batch normalization, shown honestly")
        st.altair_chart(charts.first_step_profile(
            {label: tables[label] for label in (baseline, "batch normalization")},
            "signal_grad_norm", title="Back-propagated signal ‖dLoss/dh_l‖ at step 1",
            y_title="‖dLoss/dh_l‖"), width="stretch")
        bn = engine.keras_batch_norm_defaults()
        ratio = summary.set_index("run").loc["batch normalization",
                                             "signal ratio layer 1 / top, step 1"]
        st.markdown(
            f"Batch normalization fixes the scale of every layer's activations, so "
            f"training goes on. Yet at initialization in a deep plain network it makes "
            f"the gradient **grow** going backward (Yang et al. 2019): here the signal "
            f"at layer 1 is {ui.format_number(ratio)} times the top layer's.\n\n"
            f"Test accuracy is measured in inference mode, with the moving averages "
            f"Keras' BatchNormalization keeps (momentum {bn['momentum']:g}, moving "
            f"variance initialized to `{bn['moving_variance_initializer']}`). "
            f"When a layer's true variance is far from 1 those averages need many "
            f"steps to catch up, so the test accuracy can lag far behind the accuracy "
            f"on the training batches (the table shows both).")
    if "L2 = 0.01" in tables:
        st.subheader("L2 regularization: weight norms")
        st.altair_chart(charts.weight_norm_chart(
            {label: tables[label] for label in (baseline, "L2 = 0.01")}),
            width="stretch")
        st.markdown("L2 pulls the weights toward zero a little at every step. It bounds "
                    "their growth over hundreds of steps; it cannot stop an explosion "
                    "that happens in the first few.")
    csv = pd.concat([t.assign(run=label) for label, t in tables.items()])
    ui.download_csv(csv, f"remedies_{trained}.csv", key="download_remedies")

st.header("Glorot & Bengio's Figure 2, reproduced")
model, training = engine.GLOROT_FIGURE_2
st.markdown(
    f"Glorot and Bengio (2010) trained a network of {model.depth} sigmoid hidden layers "
    f"initialized with the 'standard' U[−1/√n, 1/√n] and watched each layer's mean "
    f"activation: the top layer quickly saturates near 0 and learning stalls. Here: "
    f"{model.depth} × {model.width} on the digits, weights U[−{model.limit:g}, "
    f"{model.limit:g}] (1/√{model.width}; for the first layer, whose fan-in is 64, the "
    f"paper's rule would give 0.125), SGD at learning rate {training.learning_rate:g}, "
    f"batches of {training.batch_size}, {training.steps:,} steps; then the same network "
    f"with tanh.")
if st.button("Train both networks (about 30 seconds)", key="train_glorot"):
    train_all({f"{name}": (model.replace(activation=name), training)
               for name in ("sigmoid", "tanh")}, "glorot_runs")
glorot = st.session_state.get("glorot_runs")
if glorot:
    for column, (label, table) in zip(st.columns(2), glorot.items()):
        column.altair_chart(charts.activation_mean_chart(
            table, f"Mean activation per layer: {label}"), width="stretch")
        first, last = (table[table["step"] == s].set_index("layer")["activation_mean"]
                       for s in (1, table["step"].max()))
        column.dataframe(pd.DataFrame({"layer": first.index, "mean at step 1": first.values,
                                       "mean at the end": last.values}),
                         hide_index=True, key=f"glorot_{label}")
    st.altair_chart(charts.accuracy_chart(glorot), width="stretch")

st.info(
    "**Takeaway.** No remedy is magic, and each one's effect can be measured: a good "
    "initialization with a non-saturating activation fixes the vanishing case at the "
    "source; clipping keeps an exploding run alive but every step is capped; batch "
    "normalization keeps activations at scale while changing how gradients flow; L2 "
    "acts slowly.", icon="💡")
