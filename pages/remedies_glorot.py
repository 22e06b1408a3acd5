"""Remedies' last section: Glorot & Bengio's Figure 2, trained on request and drawn."""
import streamlit as st

from core.charts import training as charts
from core.experiments import remedies
from pages import training_runs, ui


def figure_2() -> None:
    """The sigmoid network with standard initialization beside the normalized one."""
    st.header("Glorot & Bengio's Figure 2, reproduced")
    ui.intro(remedies.glorot_description())
    ui.keras_code_expander(remedies.trained_networks(remedies.glorot_runs()))
    if st.button("Train both networks (about 15 seconds, longer on a busy server)",
                 key="train_glorot"):
        training_runs.train_all(remedies.glorot_runs(), "glorot_runs")
    glorot = st.session_state.get("glorot_runs")
    if glorot:
        for column, (label, table) in zip(st.columns(2), glorot.items()):
            ui.chart(charts.activation_mean_chart(table, f"Mean activation per layer: {label}"),
                     key=f"glorot_chart_{label}", filename=f"glorot_mean_activation_{label}",
                     where=column)
            means = remedies.glorot_means(table)
            column.dataframe(means, hide_index=True, key=f"glorot_{label}")
            ui.download_csv(means, f"glorot_mean_activation_{label}.csv", where=column,
                            key=f"download_glorot_{label}", label="Download this table (CSV)")
        ui.chart(charts.accuracy_chart(glorot), key="glorot_accuracy", filename="glorot_accuracy")
        st.caption(remedies.glorot_facts(glorot))
        ui.download_csv(remedies.stacked(glorot), "glorot_figure_2.csv", key="download_glorot",
                        label="Download both runs' measurements (CSV)",
                        help="One row per run, step and layer.")
