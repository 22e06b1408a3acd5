"""Streamlit helpers every page shares: URL checks, cached core calls, export, code.

Pages bind their widgets to the URL with `key=<ModelSpec field name>` and
`bind="query-params"`. Streamlit silently drops a URL value a widget cannot take;
`check_query_params` runs first and says so, naming the parameter and the value used.
"""
from __future__ import annotations

from pages import server; server.tune()  # noqa: E702 - before any page runs: see its doc

import json
import math
from typing import Callable

import pandas as pd
import streamlit as st

from core.charts import format_value
from core.spec import ModelSpec, parse_bool

Validator = Callable[[str], object]


def _use_the_router() -> None:
    """Make sure streamlit_app.py's st.navigation routes every page.

    Streamlit 1.67 starts in its legacy mode when a folder named pages/ sits beside the
    main script: until some session has run the router, a deep link such as /problem
    runs the page file alone (no st.navigation, no page config). The first page to
    import this module in that state switches the legacy mode off and reruns, so the
    router runs and shows the intended page.
    """
    from streamlit.runtime.pages_manager import PagesManager
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_use_the_router()


def int_param(low: int, high: int) -> Validator:
    def check(text: str):
        number = float(text)
        if not number.is_integer() or not low <= number <= high:
            raise ValueError(f"an integer from {low} to {high}")
        return int(number)
    check.accepts = f"an integer from {low} to {high}"
    return check


def float_param(low: float, high: float) -> Validator:
    def check(text: str):
        number = float(text)
        if not math.isfinite(number) or not low <= number <= high:
            raise ValueError
        return number
    check.accepts = f"a number from {low:g} to {high:g}"
    return check


def choice_param(options) -> Validator:
    options = [str(option) for option in options]

    def check(text: str):
        if text not in options:
            raise ValueError
        return text
    check.accepts = "one of " + ", ".join(options)
    return check


def bool_param() -> Validator:
    def check(text: str):
        return parse_bool(text)
    check.accepts = "true or false"
    return check


def as_text(value: object, limit: int = 40) -> str:
    """A user-supplied value, safe to show inside Markdown: never rendered as markup."""
    text = str(value).replace("`", "'").replace("\n", " ")
    return "`" + (text if len(text) <= limit else text[:limit] + "...") + "`"


def check_query_params(validators: dict[str, Validator], defaults: dict[str, object]) -> None:
    """Warn, visibly, about every URL parameter this page cannot use."""
    for name in list(st.query_params.keys()):
        values = st.query_params.get_all(name)
        raw = values[-1] if values else ""
        if name not in validators:
            st.warning(f"URL parameter {as_text(name)} is not a setting of this page; "
                       f"ignored.", icon="⚠️")
            continue
        try:
            validators[name](raw)
        except (ValueError, OverflowError, TypeError):
            st.warning(f"URL parameter {as_text(name)} = {as_text(raw)} is not usable: "
                       f"it must be {validators[name].accepts}. Using "
                       f"{as_text(defaults[name])} instead.", icon="⚠️")


@st.cache_data(max_entries=64, show_spinner="Measuring every layer with TensorFlow...")
def profile(spec: ModelSpec) -> pd.DataFrame:
    """core.profile, cached per session-independent spec (results are copied out)."""
    from core.profile import profile as compute
    return compute(spec)


def keras_code_expander(spec: ModelSpec | dict[str, ModelSpec]) -> None:
    """Runnable Keras code for the network shown; several ({label: spec}): a tab each."""
    from core.keras_model import keras_code
    several = isinstance(spec, dict)
    with st.expander("Show the Keras code for " + ("these networks" if several
                                                      else "this network")):
        st.caption("Runnable code that builds the same network with keras.layers and "
                   "measures the back-propagated signal at every layer.")
        if not several:
            st.code(keras_code(spec), language="python")
            return
        for tab, one in zip(st.tabs(list(spec)), spec.values()):
            tab.code(keras_code(one), language="python")


EXPORT_WIDTH = 800  # pixels: charts drawn at the container's width need one to be saved
# vl-convert draws with the fonts installed; its generic "sans-serif" can fall back to a
# serif face, and not every font has the ‖ and − glyphs the titles use.
EXPORT_FONT = "DejaVu Sans, Liberation Sans, Helvetica, Arial, sans-serif"


def export_spec(figure) -> dict:
    """The chart's Vega-Lite spec with every width="container" set to EXPORT_WIDTH."""
    def fix(node):
        if isinstance(node, dict):
            return {key: EXPORT_WIDTH if key == "width" and value == "container"
                    else fix(value) for key, value in node.items()}
        if isinstance(node, list):
            return [fix(item) for item in node]
        return node
    spec = fix(json.loads(figure.to_json()))
    spec.setdefault("config", {}).setdefault("font", EXPORT_FONT)
    return spec


def chart_png(figure) -> bytes:
    """The chart as a PNG at twice its size (sharp on projectors), rendered offline."""
    import vl_convert
    return vl_convert.vegalite_to_png(export_spec(figure), scale=2)


def chart_svg(figure) -> str:
    """The chart as SVG text, rendered offline."""
    import vl_convert
    return vl_convert.vegalite_to_svg(export_spec(figure))


def chart(figure, key: str, filename: str, where=None) -> None:
    """Draw an Altair chart full width, with small PNG and SVG download buttons under it.

    `where`: a container (a column, say) to draw into; the page itself by default. The
    files are rendered only when a button is clicked, and the click does not rerun the
    page.
    """
    where = where if where is not None else st
    where.altair_chart(figure, width="stretch")
    buttons = where.container(horizontal=True, horizontal_alignment="right", gap="small")
    buttons.download_button("PNG", lambda: chart_png(figure), file_name=f"{filename}.png",
                            mime="image/png", key=f"{key}_png", on_click="ignore",
                            icon=":material/download:", type="tertiary",
                            help="Save this chart as a PNG image.")
    buttons.download_button("SVG", lambda: chart_svg(figure), file_name=f"{filename}.svg",
                            mime="image/svg+xml", key=f"{key}_svg", on_click="ignore",
                            icon=":material/download:", type="tertiary",
                            help="Save this chart as an SVG vector image.")


def download_csv(table: pd.DataFrame, filename: str, key: str,
                 label: str = "Download the table (CSV)",
                 help: str = "Every number behind the charts, one row per layer.",
                 where=None) -> None:
    (where if where is not None else st).download_button(
        label, table.to_csv(index=False), file_name=filename, mime="text/csv", key=key,
        on_click="ignore", help=help)


def format_number(value: float) -> str:
    """A metric's number to 3 significant digits (core.charts.format_value)."""
    return format_value(value, digits=3)


def page_link(path: str, label: str, icon: str) -> None:
    """A link to another page of the router (a wrong path raises: the tests catch it)."""
    st.page_link(path, label=label, icon=icon)


def format_ratio(result: dict) -> str:
    """A summary's gradient ratio, or what stopped it from being a number."""
    ratio = result["ratio"]
    if math.isnan(ratio):
        return "overflow" if result["verdict"] == "exploding" else "undefined"
    return format_number(ratio)


def share_link() -> None:
    """A copyable link to this exact view (page + every control), in the sidebar."""
    from urllib.parse import urlencode
    base = st.context.url or ""
    query = urlencode([(key, value) for key in st.query_params.keys()
                       for value in st.query_params.get_all(key)])
    with st.sidebar:
        st.caption("Link to this view (same settings, same seed): copy it with the "
                   "button at the right of the box.")
        st.code(base + ("?" + query if query else ""), language=None, wrap_lines=True)
