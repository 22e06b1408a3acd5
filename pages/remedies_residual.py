"""Remedies' residual-scaling section: skips h + β·branch(h), measured beside theory,
and the page's baseline trained with each β."""
import streamlit as st

from core.charts import residual_scaling as charts
from core.charts import training as training_charts
from core.experiments import remedies
from core.experiments import residual_scaling as rs
from pages import training_runs, ui


def section(controls, scenario: str, seed: int, steps: int) -> None:
    """The signal through scaled skips for each preset β, then training runs."""
    st.header("Residual scaling: h + β·branch(h)")
    ui.intro(
        "A skip connection adds a branch to the identity. Scaling the branch by β sets "
        "how fast the signal grows with depth. Three choices: β = 1 (the plain skip), "
        "β = 1/√L (L the depth), and β = 0, where every skipped layer starts as the "
        "identity (SkipInit, ReZero). " + rs.THEORY_NOTE)
    controls_column, charts_column = ui.beside()  # side by side in presenter mode
    row = ui.row([1, 1, 2], controls_column)
    branch = controls.radio("Branch", "residual_branch", list(rs.BRANCHES), "linear",
                            where=row[0], format_func=rs.BRANCH_NAMES.get,
                            help="The branch is one Dense layer and its activation; zero "
                                 "biases, width 256, batch 256.")
    depth = controls.select_slider("Depth L (hidden layers)", "residual_depth", rs.DEPTHS,
                                   rs.DEFAULT_DEPTH, where=row[1])
    presets = controls.multiselect(
        "β", "residual_scale", rs.PRESETS, rs.DEFAULT_PRESETS, where=row[2],
        format_func=lambda preset: rs.preset_label(preset, depth),
        help="Each β is a network of its own; every layer after the first is skipped.")
    if not presets:
        controls_column.info("Choose at least one β.", icon="☝️")
        return
    with st.spinner("Measuring every layer with TensorFlow..."):
        profiles, growth = rs.measure(branch, depth, presets)
    for column, direction in zip(ui.row(2, charts_column), charts.DIRECTIONS):
        ui.chart(charts.signal_chart(profiles, direction, rs.BRANCH_NAMES[branch]),
                 key=f"residual_{direction}", where=column,
                 filename=f"residual_scaling_{branch}_L{depth}_{direction}")
    st.dataframe(growth, hide_index=True, key="residual_growth", column_config={
        **{name: st.column_config.NumberColumn(format="%.2e") for name in growth.columns[2:5]},
        growth.columns[5]: st.column_config.NumberColumn(format="%.3g")})
    st.caption(f"Growth over the {depth - 1} skipped layers: forward ‖h_L‖²/‖h_1‖², "
               f"backward ‖dLoss/dh_1‖²/‖dLoss/dh_L‖², for both branches. "
               f"{rs.growth_facts(growth)}")
    st.markdown(rs.RELU_NOTE)
    ui.download_csv(profiles, f"residual_scaling_{branch}_L{depth}.csv",
                    key="download_residual", label="Download these profiles (CSV)",
                    help="One row per β and layer, measured and theory.")
    ui.keras_code_expander({rs.preset_label(preset, depth): rs.network(
        branch, depth, rs.scale_of(preset, depth)) for preset in presets})

    st.subheader(f"Training the baseline with each β ({remedies.SCENARIO_NAMES[scenario]})")
    st.markdown(rs.TRAINING_NOTE)
    if st.button(f"Train the baseline and each β ({remedies.TIMING})", key="train_residual"):
        training_runs.train_all(rs.training_runs(scenario, presets, seed, steps),
                                "residual_runs")
    tables = st.session_state.get("residual_runs")
    if tables:
        st.dataframe(remedies.report(tables)["shown"], hide_index=True,
                     key="residual_summary", column_config={
                         **dict.fromkeys(remedies.PERCENT_COLUMNS,
                                         st.column_config.NumberColumn(format="percent")),
                         **dict.fromkeys(remedies.RATIO_COLUMNS,
                                         st.column_config.NumberColumn(format="%.2e"))})
        st.caption(rs.learned_scales(tables))
        ui.chart(training_charts.loss_chart(tables), key="residual_loss",
                 filename="residual_scaling_loss")
        ui.chart(training_charts.accuracy_chart(tables), key="residual_accuracy",
                 filename="residual_scaling_accuracy")
        ui.download_csv(remedies.stacked(tables), "residual_scaling_runs.csv",
                        key="download_residual_runs",
                        label="Download every run's measurements (CSV)",
                        help="One row per run, step and layer.")
