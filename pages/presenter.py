"""Presenter mode and Reset: a sidebar switch for a projector (also ?present=true, kept
across pages) and a button that puts a page's controls back to their defaults.

pages/controls.py's `run_page` calls `toggle` before the page, and `sync_url` and
`reset_button` after it.
"""
from __future__ import annotations

import streamlit as st

from core.spec import parse_bool

PRESENT = "present"  # the URL parameter, on every page
PRESENT_KEY = "ui:present"
PRESENT_CSS = """<style>
[data-testid=stMainBlockContainer]{padding-top:1.5rem !important}
[data-testid=stMainBlockContainer] p, [data-testid=stMainBlockContainer] li,
[data-testid=stWidgetLabel] p{font-size:1.2rem !important}
[data-testid=stMetricValue]{font-size:2.4rem !important}
[data-testid=stMainBlockContainer] h1{font-size:2.4rem !important}
</style>"""


def presenting() -> bool:
    return bool(st.session_state.get(PRESENT_KEY, False))


def toggle(entering: bool) -> None:
    """The sidebar switch; on entering a page, ?present= sets it (a bad value warns)."""
    if entering and PRESENT in st.query_params:
        from pages.controls import as_text
        raw = st.query_params.get_all(PRESENT)[-1]
        try:
            st.session_state[PRESENT_KEY] = parse_bool(raw)
        except ValueError:
            st.session_state["_ui_warnings"].append(
                f"URL parameter `{PRESENT}` must be true or false, not {as_text(raw)}. "
                f"Using {as_text(presenting(), None)} instead.")
    st.sidebar.toggle(
        "Presenter mode", key=PRESENT_KEY,
        help="For a projector: hides the intros, enlarges text and chart labels, and "
             "puts each section's controls beside its chart. Also ?present=true.")
    if presenting():
        st.html(PRESENT_CSS)


def sync_url() -> None:
    """?present=true in the URL while presenting, no parameter otherwise."""
    if presenting():
        st.query_params[PRESENT] = "true"
    elif PRESENT in st.query_params:
        del st.query_params[PRESENT]


def _reset(page: str, defaults: dict) -> None:
    """Every control of `page` back to its default (a button callback: runs before the
    rerun, so the widgets are drawn with the defaults)."""
    for name, default in defaults.items():
        st.session_state[f"{page}:{name}"] = default
    st.session_state.setdefault("_ui_saved", {}).pop(page, None)
    st.session_state.pop(f"pinned:{page}", None)  # ui.pin's pinned curve


def reset_button(controls) -> None:
    """"Reset this page" in the sidebar for a page's ui.Controls (disabled at defaults)."""
    if not controls.fields:
        return
    defaults = {name: field.default for name, field in controls.fields.items()}
    st.sidebar.button("Reset this page", key=f"reset:{controls.page}",
                      icon=":material/restart_alt:", on_click=_reset,
                      args=(controls.page, defaults), disabled=controls.values == defaults,
                      help="Every control of this page back to its default.")
