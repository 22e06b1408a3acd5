"""Streamlit helpers every page shares: cached core calls, charts with export, metrics.

The URL-bound controls live in pages/controls.py (re-exported here: `ui.Controls`,
`ui.run_page`, `ui.as_text`), presenter mode in pages/presenter.py (`ui.presenting`);
the router runs each page through `run_page`.
"""
from __future__ import annotations

from pages import server; server.tune()  # noqa: E702 - before any page runs: see its doc

import math

import pandas as pd
import streamlit as st

from core.cache import ByIdentity
from core.charts import export
from core.summary import format_number as _format_number
from core.spec import ModelSpec
from pages.controls import Controls, as_text, run_page  # noqa: F401 - API
from pages.presenter import presenting


def profile(spec: ModelSpec) -> pd.DataFrame:
    """core.per_layer's profile (cached there, for every session); a spinner while a new
    spec is measured."""
    from core.per_layer import is_cached, profile as compute
    if is_cached(spec):
        return compute(spec)
    with st.spinner("Measuring every layer with TensorFlow..."):
        return compute(spec)


def keras_code_expander(spec: ModelSpec | dict[str, ModelSpec]) -> None:
    """Runnable Keras code for the network shown; several ({label: spec}): a tab each."""
    from core.keras_model import keras_code
    several = isinstance(spec, dict)
    with st.expander("Show the Keras code for " + ("these networks" if several
                                                      else "this network")):
        st.caption("Runnable code that builds the same network as a Keras model, with "
                   "the same weights and data, and prints this page's per-layer table "
                   "as CSV (`python -m core code` prints it too).")
        if not several:
            st.code(keras_code(spec), language="python")
            return
        for tab, one in zip(st.tabs(list(spec)), spec.values()):
            tab.code(keras_code(one), language="python")


def _deferred(render, figure, key: str, kind: str):
    """A download button's data callable: render the file when the button is clicked.

    Streamlit 1.67 runs it outside the script (no st.* calls there). When it raises,
    the browser shows "Failed to generate file for download" under the button for 5
    seconds and the server logs the reason; the reason is also kept, and chart() shows
    it under the chart from the next rerun on, so a failure is never silent.
    """
    failures = st.session_state.setdefault("export_failures", {})

    def make():
        try:
            return render(figure)
        except Exception as error:
            failures[key] = f"Saving {kind} failed: {error}"
            raise
    return make


def _show_failure(key: str, where) -> None:
    message = st.session_state.get("export_failures", {}).pop(key, None)
    if message:
        where.error(as_text(message, limit=300), icon="⚠️")


def _register(key: str, filename: str, figure) -> None:
    """Remember a chart drawn in this script run, for download_all_charts()."""
    _this_run("charts_this_run")[key] = (filename, figure)


def intro(text: str) -> None:
    """A page's or section's introduction: hidden in presenter mode. Under a page's
    first one, the slot of its "Predict first" section (pages/predict.py)."""
    if not presenting():
        st.markdown(text)
    slot = _this_run("predict_slot")
    if "box" not in slot:
        slot["box"] = st.container(key="predict_slot")  # predict.HIDE_CSS follows it


def beside(ratio=(1, 2)):
    """(controls, chart) containers: side by side in presenter mode, so that a slider
    and the chart it drives are on a 1280x720 screen together; stacked otherwise."""
    if presenting():
        return st.columns(list(ratio), gap="medium")
    return st.container(), st.container()


def row(spec, where=None):
    """Columns for a row of controls, metrics or charts (`spec`: a count or widths). In
    presenter mode the row sits in a narrow column of ui.beside(), so its items stack
    there, in order, instead."""
    where = where if where is not None else st
    if presenting():
        return [where] * (spec if isinstance(spec, int) else len(spec))
    return where.columns(spec)


def folded(title: str):
    """A section's container: headed by `title`; in presenter mode folded into a closed
    expander, so that the first chart and its controls are on the first screen."""
    if presenting():
        return st.expander(title)
    box = st.container()
    box.header(title)
    return box


def _this_run(name: str) -> dict:
    """A dict in session state that starts empty at every script run (the charts
    drawn, the choices a share link does not keep)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    ctx = get_script_run_ctx()
    run = ctx.cursors if ctx is not None else None  # a new dict at every script run
    kept = st.session_state.get(name)
    if kept is None or kept["run"] is not run:
        kept = st.session_state[name] = {"run": run, "items": {}}
    return kept["items"]


def not_in_link(what: str) -> None:
    """Say under the share link that it does not keep `what` (for this run only)."""
    _this_run("link_omits")[what] = True


def _keep(key: str, setting: dict) -> None:
    st.session_state[key] = setting


def pin(page: str, setting: dict, describe, where=None) -> dict | None:
    """"Pin this curve": a button that keeps `setting` (the controls behind the curve)
    so that the next setting is drawn beside it, then the pinned setting and "Unpin".

    `describe(setting)` names a setting in a few words. Returns the pinned setting when
    it differs from `setting` (there is a curve to draw beside), else None.
    """
    where = where if where is not None else st
    key = f"pinned:{page}"
    pinned = st.session_state.get(key)
    if pinned is None:
        where.button("Pin this curve", key=f"pin:{page}", icon=":material/push_pin:",
                     on_click=_keep, args=(key, dict(setting)),
                     help=f"Keep the curve of {describe(setting)} on the charts, so that "
                          "the next setting you choose is drawn beside it.")
        return None
    not_in_link("the pinned curve")
    same = pinned == setting
    where.caption(f"📌 Pinned: {describe(pinned)}" + (
        ". Change a setting to draw it beside the pinned curve." if same else
        ", drawn beside the current setting."))
    where.button("Unpin", key=f"unpin:{page}", icon=":material/close:",
                 on_click=_keep, args=(key, None),
                 help="Remove the pinned curve from the charts.")
    return None if same else pinned


PRESENT_HEIGHT = 420  # px, legends included: a chart beside its controls at 1280x720


_PROJECTED = {"light": ByIdentity(128), "dark": ByIdentity(128)}  # chart -> projected


def _projected(figure):
    """Chart text readable from the back row: labels and legends >= 15 px, dark grey
    on a light theme (light grey on a dark one), larger titles; at most PRESENT_HEIGHT
    tall. Kept per chart (core.charts remembers charts), so an unchanged chart is not
    copied and converted again at every rerun."""
    dark = getattr(getattr(st.context, "theme", None), "type", None) == "dark"
    return _PROJECTED["dark" if dark else "light"].get(
        figure, lambda chart: _enlarged(chart, dark))


def _enlarged(figure, dark: bool):
    height = getattr(figure, "height", None)
    if isinstance(height, (int, float)) and height > PRESENT_HEIGHT:
        figure = figure.properties(height=PRESENT_HEIGHT)  # chart and slider on one screen
    ink = "#dddddd" if dark else "#333333"
    return (figure.configure_axis(labelFontSize=15, titleFontSize=16, labelColor=ink,
                                  titleColor=ink)
            .configure_legend(labelFontSize=15, titleFontSize=15, labelColor=ink)
            .configure_title(fontSize=21, subtitleFontSize=15))


def chart(figure, key: str, filename: str, where=None) -> None:
    """Draw an Altair chart full width, with small PNG and SVG download buttons under it.

    `where`: a container (a column, say) to draw into; the page itself by default. The
    files are rendered (core.charts.export) only when a button is clicked, and the click does
    not rerun the page. The chart is also registered for download_all_charts().
    """
    where = where if where is not None else st
    where.altair_chart(_projected(figure) if presenting() else figure, width="stretch")
    _register(key, filename, figure)
    buttons = where.container(horizontal=True, horizontal_alignment="right", gap="small")
    buttons.download_button("PNG", _deferred(export.chart_png, figure, key, "PNG"),
                            file_name=f"{filename}.png", mime="image/png",
                            key=f"{key}_png", on_click="ignore",
                            icon=":material/download:", type="tertiary",
                            help="Save this chart as a PNG image.")
    buttons.download_button("SVG", _deferred(export.chart_svg, figure, key, "SVG"),
                            file_name=f"{filename}.svg", mime="image/svg+xml",
                            key=f"{key}_svg", on_click="ignore",
                            icon=":material/download:", type="tertiary",
                            help="Save this chart as an SVG vector image.")
    _show_failure(key, where)


def download_all_charts(name: str) -> None:
    """One button: a zip of every chart drawn on this page in this run, PNG and SVG.

    Call it at the bottom of a page, after its last ui.chart(). The zip is made only
    when the button is clicked (about a second per chart).
    """
    charts = list(_this_run("charts_this_run").values())
    if not charts:
        return
    key = "download_all_charts"
    st.download_button(
        f"Download every chart on this page ({len(charts)}, PNG and SVG, one zip)",
        _deferred(export.charts_zip, charts, key, "the charts"),
        file_name=f"gradient_lab_{name}_charts.zip", mime="application/zip", key=key,
        on_click="ignore", icon=":material/folder_zip:",
        help="Every chart above as it is drawn now, each as a PNG and an SVG file.")
    _show_failure(key, st)


def download_csv(table: pd.DataFrame, filename: str, key: str,
                 label: str = "Download the table (CSV)",
                 help: str = "Every number behind the charts, one row per layer.",
                 where=None) -> None:
    """A CSV of `table`, written only when the button is clicked (not on every rerun)."""
    (where if where is not None else st).download_button(
        label, _deferred(lambda frame: frame.to_csv(index=False), table, key, "the CSV"),
        file_name=filename, mime="text/csv", key=key, on_click="ignore", help=help)
    _show_failure(key, where if where is not None else st)


def format_number(value: float) -> str:
    """A metric's number to 3 significant digits (core.summary.format_number)."""
    return _format_number(value)


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
        omitted = list(_this_run("link_omits"))
        if omitted:
            st.caption("The link keeps every control of this page but not "
                       + " or ".join(omitted) + ".")


def with_progress(compute, text: str, cached: bool = False):
    """`compute(on_point)` under a progress bar that `on_point(done, total)` moves;
    without a bar when the answer is `cached`."""
    if cached:
        return compute(None)
    bar = st.progress(0.0, text=text)

    def on_point(done: int, total: int) -> None:
        bar.progress(done / total, text=f"{text} ({done} of {total})")
    try:
        return compute(on_point)
    finally:
        bar.empty()
