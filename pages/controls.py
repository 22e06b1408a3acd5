"""URL-bound controls: one declaration per widget draws it, checks its URL value and
writes it back; `run_page` runs the routed page between those checks."""
from __future__ import annotations

from pages import server; server.tune()  # noqa: E702 - before any page runs: see its doc

import streamlit as st

from core.url_fields import (as_text, bool_field, option_field, range_field,
                             text_field)
from pages import admission, presenter, slideshow, warmup


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
# own options and bounds, given once to a Controls method below, which makes its
# core.url_fields.Field) draws the widget, checks the URL value and writes it back, so the check can never drift from the widget.
# The URL is read when a page is entered (a deep link, or a visit from another page,
# which Streamlit opens with a clean query string), validated, and written back after
# every run; values a session chose on a page are kept when it comes back.
BUSY = ("The server is busy with other visitors' pages: yours is number {ahead} in line "
        "and starts in a moment.")
STREAMLIT_PARAMS = {"embed", "embed_options"}  # Streamlit's own; never ours to check


class Controls:
    """A page's URL-bound widgets. Each method draws one widget (page-scoped key) from
    one declaration, which also checks the URL value and writes the value back.

    Usage: `controls = ui.Controls("problem")`, then `depth = controls.slider(...)`. The
    router's `run_page` reports unknown URL parameters and writes the URL after the page.
    """

    def __init__(self, page: str):
        _use_the_router()  # a page run without the router (legacy mode) reruns through it
        self.page = page
        self.fields: dict = {}  # name -> core.url_fields.Field
        self.values: dict[str, object] = {}
        self.entering = st.session_state.get("_ui_entering", True)
        self.saved = st.session_state.setdefault("_ui_saved", {}).setdefault(page, {})
        st.session_state["_ui_controls"] = self

    def key(self, name: str) -> str:
        """The widget's session-state key: scoped to this page."""
        return f"{self.page}:{name}"

    def _prepare(self, field) -> str:
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
        key = self._prepare(range_field(name, default, low, high, step))
        value = (where or st).slider(label, low, high, step=step, key=key, **kwargs)
        return self._done(name, value)

    def number_input(self, label, name, low, high, default, where=None, **kwargs):
        key = self._prepare(range_field(name, default, low, high, 1))
        value = (where or st).number_input(label, low, high, step=1, key=key, **kwargs)
        return self._done(name, int(value))

    def _choice(self, widget, label, name, options, default, where, format_func=None,
                **kwargs):
        key = self._prepare(option_field(name, default, options, format_func or str))
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
        key = self._prepare(option_field(name, list(default), options,
                                          many=max_selections or True))
        value = (where or st).multiselect(label, options, key=key,
                                          max_selections=max_selections, **kwargs)
        return self._done(name, list(value))

    def text_input(self, label, name, default, parse, accepts, example, where=None,
                   **kwargs):
        """A text box bound to the URL; `parse(text)` returns the value to use or raises
        ValueError, and a URL value it refuses is reported (it must be `accepts`)."""
        key = self._prepare(text_field(name, default, parse, accepts, example))
        return self._done(name, (where or st).text_input(label, key=key, **kwargs))

    def toggle(self, label, name, default, where=None, **kwargs):
        key = self._prepare(bool_field(name, default))
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


# Keyboard focus always visible (a thick orange outline, which reads on both themes), whatever Streamlit's own widget styles do.
FOCUS_CSS = ("<style>:focus-visible{outline:3px solid #E69F00 !important;"
             "outline-offset:2px !important}</style>")


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
    st.html(FOCUS_CSS)
    # The server's warm-up starts with the process's first visit, whichever page it is
    # (a class follows a link straight to a topic page, not to Home)
    warmup.start_in_background()
    presenter.toggle(entering)
    slideshow.bar()
    top = st.container()
    try:
        with warmup.visiting(), admission.noted(admission.page_slot,
                                                lambda ahead: BUSY.format(ahead=ahead + 1)):
            page.run()
            from pages import predict
            predict.after_page(page.url_path, entering)
            slideshow.scroll_to_section()
    finally:
        _finish(top, entering)


def _finish(top, entering: bool) -> None:
    controls = st.session_state.get("_ui_controls")
    known = (set(controls.fields) if controls else set()) | {presenter.PRESENT} | set(
        st.session_state.pop("_ui_extra_params", ()))
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
    presenter.sync_url()
    if controls is not None:
        controls.sync_url()
        presenter.reset_button(controls)
