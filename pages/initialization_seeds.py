"""Initialization's finite-width section: many seeds of one network, and the spread
against depth/width beside theory (core.finite_width)."""
import streamlit as st

from core import finite_width
from core.charts import finite_width as charts
from pages import ui

DEPTHS = (5, 10, 20, 50, 100)
INITS = ("he_normal", "he_uniform", "glorot_normal", "orthogonal")
SEEDS = finite_width.PAGE_SEEDS


def finite_width_section(controls) -> None:
    """The fan of seeds for a chosen width and depth, and every width's spread."""
    st.header("5. One seed is not the whole story")
    ui.intro(
        "Every chart above draws one network (seed 0). At finite width n, another seed "
        "gives another gain: for ReLU with He initialization and one input, "
        "ln(‖h_L‖²/‖x‖²) is a sum of L independent layer terms, with mean about −5L/(2n) "
        "and variance about 5L/n (theory, Hanin 2018; Hanin & Rolnick 2018). The mean "
        "gain ‖h_L‖²/‖x‖² is exactly 1, yet a deep, narrow network is a lottery.")
    controls_column, charts_column = ui.beside()  # side by side in presenter mode
    row = ui.row(3, controls_column)
    depth = controls.select_slider(
        "Depth L", "seeds_depth", DEPTHS, finite_width.PAGE_DEPTH, where=row[0],
        help="Hidden layers of every network drawn.")
    width = controls.select_slider(
        "Width n of the fan", "seeds_width", finite_width.SPREAD_WIDTHS,
        finite_width.PAGE_WIDTH, where=row[1],
        help="Units per hidden layer of the networks in the first chart; the second "
             "chart shows every width.")
    init = controls.selectbox(
        "Initialization", "seeds_init", INITS, "he_normal", where=row[2],
        help="Kernel initializer of every ReLU layer. Theory's band covers He only.")
    base = finite_width.FiniteWidthSpec(seeds=SEEDS, depth=depth, width=width, init=init)
    spread = ui.with_progress(
        lambda on_width: finite_width.spread_over_widths(base, on_width=on_width),
        f"Drawing {SEEDS} ReLU networks per width with Keras",
        cached=finite_width.is_cached(base))
    fan = finite_width.measure(base)["fan"]
    note = finite_width.theory_applies(base)
    ui.chart(charts.fan_chart(fan, spread[spread["width"] == width], width, note),
             key="chart_seeds_fan", filename=f"seeds_fan_{init}_L{depth}_n{width}",
             where=charts_column)
    ui.chart(charts.spread_chart(spread, width), key="chart_seeds_spread",
             filename=f"seeds_spread_{init}_L{depth}", where=charts_column)
    st.markdown(finite_width.spread_text(spread, base))
    st.caption(
        "One N(0, 1) input per network, zero biases, seeds 0 to 99 (each seed's network "
        "is the one the profile measures for that seed). "
        + (note + " " if note else "Theory is first order in L/n: narrow nets spread "
           "more than 5L/n, and a dead seed (gain 0, marked ▼) leaves the variance. ")
        + "`python -m core seeds` prints each seed's forward and backward gain; the Keras "
        "code below builds the first seed's network.")
    left, right = ui.row(2)
    ui.download_csv(finite_width.seed_table(base), f"seeds_{init}_L{depth}_n{width}.csv",
                    key="download_seeds", where=left, label="Download the seeds (CSV)",
                    help="One row per seed: forward gain ‖h_L‖/‖x‖, backward gain "
                         "‖dLoss/dh_1‖/‖dLoss/dh_L‖.")
    ui.download_csv(spread, f"seeds_spread_{init}_L{depth}.csv", key="download_spread",
                    where=right, label="Download the spread (CSV)",
                    help="One row per width and layer: measured and theory mean and "
                         "variance of ln gain², seeds dead.")
    ui.keras_code_expander(base.network(base.seed))
