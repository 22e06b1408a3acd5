"""Born dead (Lu et al. 2019): how often a narrow, deep ReLU network is dead before
training, measured over Keras-drawn networks beside 1 − (1 − 2⁻ⁿ)ᴸ (core.born_dead).

Shown on Activations, before dying ReLU during training. Its control is bound to the
URL as `dead_depth`, scoped to the page that shows it.
"""
import streamlit as st

from core import born_dead
from core.charts import phase as charts
from pages import ui

DEPTHS = (10, 20, 50, 100, 200)
SEEDS = 500  # networks drawn per width (core.slides precomputes the same)


def born_dead_section(controls, number: int | None = None) -> None:
    """The fraction of ReLU networks dead at initialization against width, at a chosen
    depth; `number` heads the section when the page numbers its sections."""
    st.header(("" if number is None else f"{number}. ") + "Born dead")
    ui.intro("A ReLU unit can die while training (the next section); a whole network can "
             "be dead before its first step. A ReLU layer of width n outputs all zeros "
             "when its n pre-activations are all negative: with zero biases and "
             "symmetric weights that has chance 2⁻ⁿ at every layer, so a network is dead "
             "before training with probability 1 − (1 − 2⁻ⁿ)ᴸ (theory; Lu et al. 2019). "
             "Below, real Keras-drawn networks.")
    controls_column, charts_column = ui.beside()  # side by side in presenter mode
    depth = controls.select_slider("Depth L", "dead_depth", DEPTHS, 50,
                                   where=controls_column,
                                   help="Hidden layers of every ReLU network drawn.")
    with st.spinner("Drawing ReLU networks with Keras..."):
        dead = born_dead.over_widths(born_dead.BornDeadSpec(depth=depth, seeds=SEEDS))
    ui.chart(charts.born_dead_chart(dead), key="chart_born_dead",
             filename=f"born_dead_L{depth}", where=charts_column)
    st.markdown(born_dead.born_dead_text(dead))
    ui.download_csv(dead, f"born_dead_L{depth}.csv", key="download_born_dead",
                    help="One row per width: networks dead, measured and theory.")
