"""Streamlit helpers every page shares: URL-bound controls, cached core calls, export.

Pages declare their widgets through `Controls` (one declaration draws the widget,
checks its URL value and writes it back); the router runs each page through
`run_page`, which shows the URL warnings above the page and writes the URL after it.
"""
from __future__ import annotations

from pages import server; server.tune()  # noqa: E702 - before any page runs: see its doc

import math

import pandas as pd
import streamlit as st

from core.charts import export
from core.charts.base import format_value
from core.spec import ModelSpec, parse_bool


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


# --- Controls bound to the URL -------------------------------------------------------
# Design: every widget's session-state key is scoped to its page ("through_time:steps"),
# so no value can pass from one page's widget to another page's widget with other
# options or bounds; the URL still uses the plain spec field name (?steps=120). The
# binding is ours, not Streamlit's bind="query-params": one declaration (the widget's
# own options and bounds, given once to the helper below) draws the widget, checks the
# URL value and writes the value back, so the check can never drift from the widget.
# The URL is read when a page is entered (a deep link, or a visit from another page,
# which Streamlit opens with a clean query string), validated, and written back after
# every run; values a session chose on a page are kept when it comes back.
STREAMLIT_PARAMS = {"embed", "embed_options"}  # Streamlit's own; never ours to check


def as_text(value: object, limit: int | None = 40) -> str:
    """A value, safe to show inside Markdown: never rendered as markup. A user's text is
    cut at `limit` characters; the app's own values (limit=None) are shown whole."""
    text = str(value).replace("`", "'").replace("\n", " ")
    return "`" + (text if limit is None or len(text) <= limit else text[:limit] + "...") + "`"


def _show(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(one) for one in value) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class Field:
    """One control: its URL name, how to read a URL text, and how to write the value."""

    def __init__(self, name, default, accepts, parse, many=False, options=None,
                 bounds=None):
        self.name, self.default, self.accepts = name, default, accepts
        self.parse, self.many = parse, many  # parse(text) -> (value, note or None)
        self.options, self.bounds = options, bounds  # what the widget takes

    def encode(self, value) -> str | list[str]:
        if self.many:
            return [str(one) for one in value]
        if isinstance(value, float):
            return format(value, ".12g")
        return str(value)

    def read(self, texts: list[str], fallback):
        """(value, [warnings]) for the URL's values of this field."""
        name = as_text(self.name)
        if self.many:
            return self._read_many(texts, fallback)
        good, notes = [], []
        for text in texts:
            try:
                value, note = self.parse(text)
            except (ValueError, OverflowError, TypeError):
                notes.append(f"URL parameter {name} = {as_text(text)} is not usable: it "
                             f"must be {self.accepts}.")
                continue
            good.append(value)
            if note:
                notes.append(f"URL parameter {name} = {as_text(text)} {note}.")
        if len(texts) > 1:
            notes.append(f"URL parameter {name} is given {len(texts)} times; it takes "
                         f"one value.")
        value = good[-1] if good else fallback
        if notes:
            notes[-1] += f" Using {as_text(_show(value), None)}."
        return value, notes

    def _read_many(self, texts, fallback):
        name, chosen, notes = as_text(self.name), [], []
        for text in texts:
            try:
                value, _ = self.parse(text)
            except (ValueError, OverflowError, TypeError):
                notes.append(f"{as_text(text)} is not {self.accepts}")
                continue
            if value in chosen:
                notes.append(f"{as_text(text)} is given twice")
            else:
                chosen.append(value)
        limit = self.many if self.many is not True else len(chosen)
        if len(chosen) > limit:
            notes.append(f"at most {limit} can be chosen, and {len(chosen)} were given")
            chosen = chosen[:limit]
        if not chosen and texts:
            chosen = list(fallback)
        if not notes:
            return chosen, []
        return chosen, [f"URL parameter {name}: " + "; ".join(notes) +
                        f". Using {as_text(_show(chosen), None)}."]


def _number(text: str) -> float:
    number = float(str(text).strip())
    if not math.isfinite(number):
        raise ValueError
    return number


def _range_field(name, default, low, high, step):
    integer = all(isinstance(one, int) for one in (low, high, 1 if step is None else step))
    accepts = (f"an integer from {low} to {high}" if integer
               else f"a number from {low:g} to {high:g}")
    if step not in (None, 1):
        accepts += f" in steps of {step:g}"

    def parse(text):
        number = _number(text)
        if not low <= number <= high:
            raise ValueError
        note = None
        if integer and not number.is_integer() and step in (None, 1):
            raise ValueError
        if step:
            snapped = low + round((number - low) / step) * step
            snapped = min(max(snapped, low), high)
            snapped = int(round(snapped)) if integer else round(snapped, 10)
            if not math.isclose(snapped, number, rel_tol=0, abs_tol=1e-9):
                note = (f"is between the slider's steps of {step:g}; the nearest step is "
                        f"used")
            number = snapped
        return (int(number) if integer else float(number)), note
    return Field(name, default, accepts, parse, bounds=(low, high, step))


def _option_field(name, default, options, format_func=str, many=False):
    options = list(options)
    numeric = all(isinstance(o, (int, float)) and not isinstance(o, bool) for o in options)
    accepts = "one of " + ", ".join(format_func(o) for o in options)

    def parse(text):
        text = str(text).strip()
        for option in options:
            if text in (str(option), format_func(option)):
                return option, None
        if not numeric:
            raise ValueError
        number = _number(text)
        for option in options:
            if math.isclose(number, option, rel_tol=1e-9, abs_tol=1e-12):
                return option, None
        if many or not min(options) <= number <= max(options):
            raise ValueError
        nearest = min(options, key=lambda option: abs(option - number))
        return nearest, (f"is not one of the slider's values ({accepts[7:]}); the "
                         f"nearest, {format_func(nearest)}, is used")
    return Field(name, default, accepts, parse, many=many, options=options)


def _bool_field(name, default):
    return Field(name, default, "true or false", lambda text: (parse_bool(text), None),
                 options=[False, True])


class Controls:
    """A page's URL-bound widgets. Each method draws one widget (page-scoped key) from
    one declaration, which also checks the URL value and writes the value back.

    Usage: `controls = ui.Controls("problem")`, then `depth = controls.slider(...)`. The
    router's `run_page` reports unknown URL parameters and writes the URL after the page.
    """

    def __init__(self, page: str):
        _use_the_router()  # a page run without the router (legacy mode) reruns through it
        self.page = page
        self.fields: dict[str, Field] = {}
        self.values: dict[str, object] = {}
        self.entering = st.session_state.get("_ui_entering", True)
        self.saved = st.session_state.setdefault("_ui_saved", {}).setdefault(page, {})
        st.session_state["_ui_controls"] = self

    def key(self, name: str) -> str:
        """The widget's session-state key: scoped to this page."""
        return f"{self.page}:{name}"

    def _prepare(self, field: Field) -> str:
        if field.name in self.fields:
            raise ValueError(f"{field.name!r} is declared twice on {self.page}")
        self.fields[field.name] = field
        key = self.key(field.name)
        fallback = self.saved.get(field.name, field.default)
        if self.entering:
            texts = st.query_params.get_all(field.name)
            value, notes = field.read(texts, fallback) if texts else (fallback, [])
            st.session_state[key] = value
            if notes:
                pending = st.session_state.setdefault("_ui_warnings", [])
                pending.extend(notes)
        elif key not in st.session_state:  # not drawn on the last run
            st.session_state[key] = fallback
        return key

    def _done(self, name, value):
        self.values[name] = value
        self.saved[name] = value
        return value

    def slider(self, label, name, low, high, default, step=None, where=None, **kwargs):
        key = self._prepare(_range_field(name, default, low, high, step))
        value = (where or st).slider(label, low, high, step=step, key=key, **kwargs)
        return self._done(name, value)

    def number_input(self, label, name, low, high, default, where=None, **kwargs):
        key = self._prepare(_range_field(name, default, low, high, 1))
        value = (where or st).number_input(label, low, high, step=1, key=key, **kwargs)
        return self._done(name, int(value))

    def _choice(self, widget, label, name, options, default, where, format_func=None,
                **kwargs):
        key = self._prepare(_option_field(name, default, options, format_func or str))
        if format_func is not None:
            kwargs["format_func"] = format_func
        value = getattr(where or st, widget)(label, options, key=key, **kwargs)
        return self._done(name, value)

    def select_slider(self, label, name, options, default, where=None, **kwargs):
        return self._choice("select_slider", label, name, options, default, where, **kwargs)

    def selectbox(self, label, name, options, default, where=None, **kwargs):
        return self._choice("selectbox", label, name, options, default, where, **kwargs)

    def radio(self, label, name, options, default, where=None, **kwargs):
        return self._choice("radio", label, name, options, default, where, **kwargs)

    def multiselect(self, label, name, options, default, max_selections=None, where=None,
                    **kwargs):
        key = self._prepare(_option_field(name, list(default), options,
                                          many=max_selections or True))
        value = (where or st).multiselect(label, options, key=key,
                                          max_selections=max_selections, **kwargs)
        return self._done(name, list(value))

    def toggle(self, label, name, default, where=None, **kwargs):
        key = self._prepare(_bool_field(name, default))
        return self._done(name, (where or st).toggle(label, key=key, **kwargs))

    def sync_url(self) -> None:
        """Write every control's value to the URL (defaults left out)."""
        for name, field in self.fields.items():
            value = self.values.get(name, field.default)
            current = st.query_params.get_all(name)
            wanted = [] if value == field.default else field.encode(value)
            wanted = wanted if isinstance(wanted, list) else [wanted]
            if current != wanted:
                if wanted:
                    st.query_params[name] = wanted if field.many else wanted[0]
                else:
                    del st.query_params[name]


def run_page(page) -> None:
    """Run the routed page between the URL checks: warnings above the page, then the
    page, then the URL written from its controls and unknown parameters reported."""
    path = page.url_path
    entering = st.session_state.get("_ui_page") != path
    st.session_state["_ui_page"] = path
    st.session_state["_ui_entering"] = entering
    st.session_state["_ui_controls"] = None
    if entering:
        st.session_state["_ui_warnings"] = []
    top = st.container()
    try:
        page.run()
    finally:
        _finish(top, entering)


def _finish(top, entering: bool) -> None:
    controls = st.session_state.get("_ui_controls")
    known = set(controls.fields) if controls else set()
    warnings = st.session_state.setdefault("_ui_warnings", [])
    if entering:
        for name in list(st.query_params.keys()):
            if name not in known and name not in STREAMLIT_PARAMS:
                warnings.append(f"URL parameter {as_text(name)} is not a setting of this "
                                f"page; ignored.")
                del st.query_params[name]
        st.session_state["_ui_warned_values"] = dict(controls.values) if controls else {}
    elif controls is None or st.session_state.get("_ui_warned_values") != controls.values:
        warnings.clear()  # a control changed since: the warnings no longer describe it
    for line in warnings:
        top.warning(line, icon="⚠️")
    if controls is not None:
        controls.sync_url()


@st.cache_data(max_entries=64, show_spinner="Measuring every layer with TensorFlow...")
def profile(spec: ModelSpec) -> pd.DataFrame:
    """core.per_layer, cached per session-independent spec (results are copied out)."""
    from core.per_layer import profile as compute
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
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    ctx = get_script_run_ctx()
    run = ctx.cursors if ctx is not None else None  # a new dict at every script run
    drawn = st.session_state.get("charts_this_run")
    if drawn is None or drawn["run"] is not run:
        drawn = st.session_state["charts_this_run"] = {"run": run, "charts": {}}
    drawn["charts"][key] = (filename, figure)


def chart(figure, key: str, filename: str, where=None) -> None:
    """Draw an Altair chart full width, with small PNG and SVG download buttons under it.

    `where`: a container (a column, say) to draw into; the page itself by default. The
    files are rendered (core.charts.export) only when a button is clicked, and the click does
    not rerun the page. The chart is also registered for download_all_charts().
    """
    where = where if where is not None else st
    where.altair_chart(figure, width="stretch")
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
    drawn = st.session_state.get("charts_this_run") or {"charts": {}}
    charts = list(drawn["charts"].values())
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
