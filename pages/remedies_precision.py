"""Remedies' loss-scaling section: the same network in float32, in mixed_float16, and in
mixed_float16 with keras.optimizers.LossScaleOptimizer, trained on request and drawn."""
import streamlit as st

from core.charts import precision as charts
from core.experiments import loss_scaling, remedies
from pages import training_runs, ui


def loss_scaling_section() -> None:
    """Half precision: where gradients underflow for real, and loss scaling."""
    st.header("Half precision: gradients that underflow for real, and loss scaling")
    ui.intro(loss_scaling.DESCRIPTION)
    with st.expander("Show the Keras code for these runs"):
        st.caption("Runnable plain Keras: the dtype policy passed to each layer, "
                   "LossScaleOptimizer in a custom loop, the zero fraction per layer "
                   "printed. Its own draws of weights and batches: the same picture, "
                   "not the same digits.")
        st.code(loss_scaling.keras_code(), language="python")
    runs = loss_scaling.runs()
    if st.button("Train the three runs (about 20 seconds, longer on a busy server)",
                 key="train_loss_scaling"):
        training_runs.train_all(runs, "loss_scaling_runs")
    tables = st.session_state.get("loss_scaling_runs")
    if tables:
        steps = max(int(table["step"].max()) for table in tables.values())
        zeros = loss_scaling.zero_fractions(tables)
        ui.chart(charts.zero_gradient_chart(zeros, steps), key="loss_scaling_zeros",
                 filename="loss_scaling_zero_gradients")
        scales = loss_scaling.loss_scales(tables)
        ui.chart(charts.loss_scale_chart(scales), key="loss_scaling_scale",
                 filename="loss_scaling_loss_scale")
        st.caption(loss_scaling.facts(tables))
        ui.download_csv(remedies.stacked(tables), "loss_scaling_runs.csv",
                        key="download_loss_scaling",
                        label="Download the three runs' measurements (CSV)",
                        help="One row per run, step and layer; zero_grad_fraction and "
                             "loss_scale are this section's columns.")
