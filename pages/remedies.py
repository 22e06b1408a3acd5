"""Remedies: a baseline that fails, and each remedy applied on the same seed and data."""
import re

import pandas as pd
import streamlit as st

from core import training as engine
from core.charts import training as charts
from pages import server, ui

st.title("🩹 Remedies: what fixes vanishing and exploding gradients")
st.markdown(
    "The course notes list five remedies: ReLU, a proper initialization, batch "
    "normalization, gradient clipping and L2 regularization; residual connections are a "
    "sixth. Here a network that fails is trained once as it is (the **baseline**), then "
    "once per remedy, changing only that one thing, on the same seed, the same data and "
    "the same batches. Every number is measured while a Keras network trains on the 8×8 "
    "handwritten digits (chance is 10%).")

STEPS = [100, 200, 300, 400, 500, 1000]
DEFAULT_STEPS = 400
SCENARIO_NAMES = {"vanishing": "deep sigmoid, 'standard' init",
                  "exploding": "deep ReLU, weights too large"}
# Measured in the browser on this app's server, two CPU cores shared with other work
# (2026-11-23, every remedy, 400 steps, click to charts): vanishing 14 s and exploding
# 13 s at a load average of about 2; a reviewer measured 40 s and more on busy cores.
# Glorot's Figure 2: 14 s. After a run the page shows the measured time.
TIMING = ("about 15 seconds on idle cores, two to three times that when the server is "
          "busy")
controls = ui.Controls("remedies")
scenario = controls.radio("Baseline that fails", "scenario", list(engine.SCENARIOS),
                          "vanishing", horizontal=True,
                          captions=[SCENARIO_NAMES[name] for name in engine.SCENARIOS])
description, _, _, options = engine.SCENARIOS[scenario]
st.caption(f"Baseline: {description}.")
with st.form("remedies"):
    remedies = controls.multiselect("Remedies, one at a time", f"remedies_{scenario}",
                                    [o[0] for o in options], [o[0] for o in options])
    row = st.columns(2)
    steps = controls.select_slider("Steps", "steps", STEPS, DEFAULT_STEPS, where=row[0])
    seed = controls.number_input("Seed", "seed", 0, 9999, 0, where=row[1])
    start = st.form_submit_button("Train the baseline and each remedy", type="primary")


model_changes = {label: model for label, (model, training) in
                 engine.scenario_runs(scenario).items()
                 if label == engine.BASELINE or model != engine.SCENARIOS[scenario][1]}
init_profiles = {label: ui.profile(model.replace(input_dim=64, batch_size=256))
                 for label, model in model_changes.items()}
ui.chart(charts.init_profile_chart(init_profiles), key="remedies_init_chart",
         filename=f"remedies_{scenario}_before_training")
ui.download_csv(pd.concat([t.assign(network=label) for label, t in init_profiles.items()]),
                f"remedies_{scenario}_before_training.csv", key="download_init_profiles",
                label="Download these profiles (CSV)",
                help="One row per network and layer, at initialization.")
st.caption("Remedies that change the network are drawn here; clipping and L2 act only "
           "during training. Train to see what each one does over time.")
baseline_training = engine.SCENARIOS[scenario][2].replace(seed=int(seed))
ui.keras_code_expander({label: engine.training_model_spec(model, baseline_training, 64)
                        for label, model in model_changes.items()})


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
            with server.training_slot():
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


def slug(label: str) -> str:
    """A run label as part of a file name: 'global_clipnorm = 1' -> 'global_clipnorm_1'."""
    return re.sub(r"[^A-Za-z0-9.]+", "_", label).strip("_")


def trained_in(tables: dict) -> str:
    seconds = sum(t.attrs.get("seconds", 0.0) for t in tables.values())
    return f"{len(tables)} runs trained in {seconds:.0f} seconds on this server."


if start:
    runs = engine.scenario_runs(scenario, remedies, int(seed))
    runs = {label: (model, training.replace(steps=steps, eval_every=max(1, steps // 20)))
            for label, (model, training) in runs.items()}
    st.session_state["remedy_scenario"] = scenario
    train_all(runs, "remedy_runs")

tables = st.session_state.get("remedy_runs")
if not tables:
    st.info("Press **Train the baseline and each remedy**. With every remedy and the "
            f"default {DEFAULT_STEPS} steps it takes {TIMING} (fewer remedies or "
            "steps take less).", icon="▶️")
else:
    trained = st.session_state.get("remedy_scenario", scenario)
    if trained != scenario:
        st.caption(f"Showing the last runs trained: {SCENARIO_NAMES[trained]}.")
    st.subheader("Which remedy fixed what")
    summary = engine.compare_runs(tables)
    shown_summary = summary.assign(**{"final loss": [f"{v:.4g}"
                                                     for v in summary["final loss"]]})
    st.dataframe(shown_summary, hide_index=True, key="remedy_summary", column_config={
        "run": st.column_config.TextColumn(width=170, pinned=True),
        "outcome": st.column_config.TextColumn(width=300),
        "test accuracy": st.column_config.NumberColumn(format="percent"),
        f"batch accuracy, last {engine.RECENT} steps": st.column_config.NumberColumn(
            format="percent"),
        "steps clipped": st.column_config.NumberColumn(format="percent"),
        "most dead units": st.column_config.NumberColumn(format="percent"),
        "final loss": st.column_config.TextColumn(
            alignment="right", help="the last finite loss, 4 significant digits"),
        "weight-grad ratio layer 1 / top, step 1": st.column_config.NumberColumn(
            format="%.2e"),
        "signal ratio layer 1 / top, step 1": st.column_config.NumberColumn(format="%.2e"),
        "seconds": st.column_config.NumberColumn(format="%.1f")})
    st.caption(f"*Outcome*: learned means at least twice chance on the test set. "
               f"*batches*: training-mode accuracy on the last {engine.RECENT} training "
               f"batches; with batch normalization it can run far ahead of the test "
               f"accuracy (see below). {trained_in(tables)}")
    ui.download_csv(summary, f"remedies_{trained}_summary.csv", key="download_summary",
                    label="Download this table (CSV)", help="One row per run.")
    ui.chart(charts.loss_chart(tables), key="remedies_loss",
             filename=f"remedies_{trained}_loss")
    ui.chart(charts.accuracy_chart(tables), key="remedies_accuracy",
             filename=f"remedies_{trained}_accuracy")

    st.subheader("Inside the network, layer by layer")
    labels = list(tables)
    baseline = labels[0]  # the baseline is always trained first
    other = st.selectbox("Compare the baseline with", labels[1:] or labels,
                         key="remedy_shown")
    pair = [baseline, other]
    # One colour scale for both heatmaps, so that one colour is one value.
    domain = charts.shared_domain([tables[label] for label in pair], "weight_grad_norm",
                                  log10=True)
    for number, (column, label) in enumerate(zip(st.columns(2), pair)):
        table = tables[label]
        ui.chart(charts.layer_step_heatmap(
            table, "weight_grad_norm", title=f"log10 ‖dLoss/dW_l‖: {label}",
            legend="log10 weight gradient", log10=True, scheme="viridis", domain=domain,
            subtitle="same colour scale in both; black: 0, inf or nan"),
            key=f"remedies_heatmap_{number}", where=column,
            filename=f"remedies_{trained}_weight_gradients_{slug(label)}")
        ui.chart(charts.update_ratio_chart(table, f"Update-to-weight ratio: {label}"),
                 key=f"remedies_update_ratio_{number}", where=column,
                 filename=f"remedies_{trained}_update_ratio_{slug(label)}")
    clipped = {label: t for label, t in tables.items()
               if engine.TrainingSpec(**t.attrs["training_spec"]).clipping}
    if clipped:
        st.subheader("Clipping, shown honestly")
        rate = next(iter(clipped.values())).attrs["training_spec"]["learning_rate"]
        ui.chart(charts.clipping_chart(clipped, rate), key="remedies_clipping",
                 filename=f"remedies_{trained}_clipping")
        st.markdown(
            "`global_clipnorm` rescales the whole gradient when its norm exceeds c, so "
            "the direction is kept (Pascanu et al. 2013). `clipnorm` rescales each "
            "weight's gradient on its own and `clipvalue` cuts every entry to [−c, c]: "
            "both change the direction. Clipping caps the step; it does not fix the "
            "weights that made the gradient large. The table's *steps clipped* column "
            "says how often it acted.")
    if "batch normalization" in tables:
        st.subheader("Batch normalization, shown honestly")
        ui.chart(charts.first_step_profile(
            {label: tables[label] for label in (baseline, "batch normalization")},
            "signal_grad_norm", title="Back-propagated signal ‖dLoss/dh_l‖ at step 1",
            y_title="‖dLoss/dh_l‖"), key="remedies_batch_norm",
            filename=f"remedies_{trained}_batch_norm_signal")
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
        ui.chart(charts.weight_norm_chart(
            {label: tables[label] for label in (baseline, "L2 = 0.01")}),
            key="remedies_l2", filename=f"remedies_{trained}_weight_norms")
        st.markdown("L2 pulls the weights toward zero a little at every step. It bounds "
                    "their growth over hundreds of steps; it cannot stop an explosion "
                    "that happens in the first few.")
    csv = pd.concat([t.assign(run=label) for label, t in tables.items()])
    ui.download_csv(csv, f"remedies_{trained}.csv", key="download_remedies",
                    label="Download every run's measurements (CSV)",
                    help="One row per run, step and layer.")

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
ui.keras_code_expander({name: engine.training_model_spec(model.replace(activation=name),
                                                         training, 64)
                        for name in ("sigmoid", "tanh")})
if st.button("Train both networks (about 15 seconds, longer on a busy server)",
             key="train_glorot"):
    train_all({f"{name}": (model.replace(activation=name), training)
               for name in ("sigmoid", "tanh")}, "glorot_runs")
glorot = st.session_state.get("glorot_runs")
if glorot:
    for column, (label, table) in zip(st.columns(2), glorot.items()):
        ui.chart(charts.activation_mean_chart(table, f"Mean activation per layer: {label}"),
                 key=f"glorot_chart_{label}", filename=f"glorot_mean_activation_{label}",
                 where=column)
        first, last = (table[table["step"] == s].set_index("layer")["activation_mean"]
                       for s in (1, table["step"].max()))
        means = pd.DataFrame({"layer": first.index, "mean at step 1": first.values,
                              "mean at the end": last.values})
        column.dataframe(means, hide_index=True, key=f"glorot_{label}")
        ui.download_csv(means, f"glorot_mean_activation_{label}.csv",
                        key=f"download_glorot_{label}", label="Download this table (CSV)",
                        where=column)
    ui.chart(charts.accuracy_chart(glorot), key="glorot_accuracy",
             filename="glorot_accuracy")
    facts = []
    for label, table in glorot.items():
        top = table[table["layer"] == table["layer"].max()].set_index("step")
        result = engine.summarize(table)
        facts.append(f"{label}: top layer's mean {top['activation_mean'].iloc[0]:.2f} at "
                     f"step 1, {top['activation_mean'].iloc[-1]:.2f} at step "
                     f"{result['steps_done']:,}; test accuracy "
                     f"{result['final_test_accuracy']:.0%}")
    st.caption("Measured here, " + "; ".join(facts) + ". " + trained_in(glorot))
    ui.download_csv(pd.concat([t.assign(run=label) for label, t in glorot.items()]),
                    "glorot_figure_2.csv", key="download_glorot",
                    label="Download both runs' measurements (CSV)",
                    help="One row per run, step and layer.")

ui.download_all_charts("remedies")
st.info(
    "**Takeaway.** No remedy is magic, and each one's effect can be measured: a good "
    "initialization with a non-saturating activation fixes the vanishing case at the "
    "source; clipping keeps an exploding run alive but every step is capped; batch "
    "normalization keeps activations at scale while changing how gradients flow; L2 "
    "acts slowly.", icon="💡")
ui.page_link("pages/through_time.py", label="Next: Through time (RNNs)", icon="🔁")
