"""Remedies: a baseline that fails, and each remedy applied on the same seed and data."""
import streamlit as st

from core.charts import training as charts
from core.charts.export import safe_filename
from core.experiments import remedies
from pages import (forensics, remedies_glorot, remedies_precision, remedies_residual,
                   training_runs, ui)

st.title("🩹 Remedies: what fixes vanishing and exploding gradients")
ui.intro(
    "The course notes list five remedies: ReLU, a proper initialization, batch "
    "normalization, gradient clipping and L2 regularization; residual connections are a "
    "sixth. Here a network that fails is trained once as it is (the **baseline**), then "
    "once per remedy, changing only that one thing, on the same seed, the same data and "
    "the same batches. Every number is measured while a Keras network trains on the 8×8 "
    "handwritten digits (chance is 10%).")

STEPS, DEFAULT_STEPS = [100, 200, 300, 400, 500, 1000], 400
controls = ui.Controls("remedies")
controls_column, charts_column = ui.beside()
scenario = controls.radio("Baseline that fails", "scenario", list(remedies.SCENARIOS),
                          "vanishing", horizontal=True, where=controls_column,
                          captions=[remedies.SCENARIO_NAMES[name] for name in remedies.SCENARIOS])
with controls_column.form("remedies"):
    row = ui.row(2)
    steps = controls.select_slider("Steps", "steps", STEPS, DEFAULT_STEPS, where=row[0])
    seed = controls.number_input("Seed", "seed", 0, 9999, 0, where=row[1])
    labels = remedies.remedy_labels(scenario)
    chosen = controls.multiselect("Remedies, one at a time", f"remedies_{scenario}", labels,
                                  labels)
    start = st.form_submit_button("Train the baseline and each remedy", type="primary")
controls_column.caption(f"Baseline: {remedies.SCENARIOS[scenario][0]}.")

with st.spinner("Measuring every layer with TensorFlow..."):
    before = remedies.before_training(scenario)
ui.chart(charts.init_profile_chart(before), key="remedies_init_chart",
         filename=f"remedies_{scenario}_before_training", where=charts_column)
ui.download_csv(remedies.stacked(before, "network"), f"remedies_{scenario}_before_training.csv",
                key="download_init_profiles", label="Download these profiles (CSV)",
                help="One row per network and layer, at initialization.", where=charts_column)
charts_column.caption("Remedies that change the network are drawn here; clipping and L2 act only "
           "during training. Train to see what each one does over time.")
ui.keras_code_expander(remedies.changed_networks(scenario, int(seed)))


if start:
    st.session_state["remedy_scenario"] = scenario
    training_runs.train_all(remedies.scenario_runs(scenario, chosen, int(seed), steps), "remedy_runs")

tables = st.session_state.get("remedy_runs")
if not tables:
    st.info("Press **Train the baseline and each remedy**. With every remedy and the "
            f"default {DEFAULT_STEPS} steps it takes {remedies.TIMING} (fewer remedies or "
            "steps take less).", icon="▶️")
else:
    trained = st.session_state.get("remedy_scenario", scenario)
    if trained != scenario:
        st.caption(f"Showing the last runs trained: {remedies.SCENARIO_NAMES[trained]}.")
    st.subheader("Which remedy fixed what")
    report = remedies.report(tables)
    st.dataframe(report["shown"], hide_index=True, key="remedy_summary", column_config={
        "run": st.column_config.TextColumn(width=170, pinned=True),
        "outcome": st.column_config.TextColumn(width=300),
        **dict.fromkeys(remedies.PERCENT_COLUMNS, st.column_config.NumberColumn(format="percent")),
        **dict.fromkeys(remedies.RATIO_COLUMNS, st.column_config.NumberColumn(format="%.2e")),
        "final loss": st.column_config.TextColumn(
            alignment="right", help="the last finite loss, 4 significant digits"),
        "seconds": st.column_config.NumberColumn(format="%.1f")})
    st.caption(report["caption"])
    forensics.show(tables, "remedies")  # the diverged runs: what happened, replays
    ui.download_csv(report["summary"], f"remedies_{trained}_summary.csv",
                    key="download_summary", label="Download this table (CSV)",
                    help="One row per run.")
    ui.chart(charts.loss_chart(tables), key="remedies_loss", filename=f"remedies_{trained}_loss")
    ui.chart(charts.accuracy_chart(tables), key="remedies_accuracy",
             filename=f"remedies_{trained}_accuracy")

    st.subheader("Inside the network, layer by layer")
    baseline, *others = tables  # the baseline is always trained first
    pair = [baseline, st.selectbox("Compare the baseline with", others or [baseline],
                                   key="remedy_shown")]
    for number, (column, label, (heatmap, ratio)) in enumerate(zip(
            st.columns(2), pair, charts.weight_gradient_pair(tables, pair))):
        name = f"remedies_{trained}_{{}}_{safe_filename(label)}"
        ui.chart(heatmap, key=f"remedies_heatmap_{number}", where=column,
                 filename=name.format("weight_gradients"))
        ui.chart(ratio, key=f"remedies_update_ratio_{number}", where=column,
                 filename=name.format("update_ratio"))
    if report["clipped"]:
        st.subheader("Clipping, shown honestly")
        ui.chart(charts.clipping_chart(report["clipped"], report["learning_rate"]),
                 key="remedies_clipping", filename=f"remedies_{trained}_clipping")
        st.markdown(remedies.CLIPPING_NOTE)
    if report["batch_norm_note"]:
        st.subheader("Batch normalization, shown honestly")
        ui.chart(charts.first_step_profile(
            {label: tables[label] for label in (baseline, remedies.BATCH_NORM)},
            "signal_grad_norm", title="Back-propagated signal ‖dLoss/dh_l‖ at step 1",
            y_title="‖dLoss/dh_l‖"), key="remedies_batch_norm",
            filename=f"remedies_{trained}_batch_norm_signal")
        st.markdown(report["batch_norm_note"])
    if remedies.L2 in tables:
        st.subheader("L2 regularization: weight norms")
        ui.chart(charts.weight_norm_chart({k: tables[k] for k in (baseline, remedies.L2)}),
                 key="remedies_l2", filename=f"remedies_{trained}_weight_norms")
        st.markdown(remedies.L2_NOTE)
    ui.download_csv(remedies.stacked(tables), f"remedies_{trained}.csv", key="download_remedies",
                    label="Download every run's measurements (CSV)",
                    help="One row per run, step and layer.")

remedies_residual.section(controls, scenario, int(seed), steps)
remedies_precision.loss_scaling_section()
remedies_glorot.figure_2()

ui.download_all_charts("remedies")
st.info(
    "**Takeaway.** No remedy is magic, and each one's effect can be measured: a good "
    "initialization with a non-saturating activation fixes the vanishing case at the "
    "source; clipping keeps an exploding run alive but every step is capped; batch "
    "normalization keeps activations at scale while changing how gradients flow; L2 "
    "acts slowly.", icon="💡")
ui.page_link("pages/through_time.py", label="Next: Through time (RNNs)", icon="🔁")
