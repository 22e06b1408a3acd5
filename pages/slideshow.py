"""Slides in the app: start a deck (core/slides.py), step through it with Next and
Previous (also PageDown and PageUp, what a presentation clicker sends), and show how far
the background precompute has got.

A slide opens its page in presenter mode with the slide's settings as the URL, as a
link into the page would (settings the slide leaves out at the page's defaults), then
scrolls to the slide's section.
"""
from __future__ import annotations

import json

import streamlit as st

from core import slides
from pages.presenter import presenting

DECK, INDEX, SCROLL = "slides:deck", "slides:index", "slides:scroll"


def active() -> tuple[slides.Deck, int] | None:
    name = st.session_state.get(DECK)
    if name not in slides.DECKS:
        return None
    deck = slides.DECKS[name]
    return deck, min(max(int(st.session_state.get(INDEX, 0)), 0), len(deck.slides) - 1)


def go(name: str, index: int) -> None:
    """Open slide `index` of deck `name` (stops this script run: st.switch_page)."""
    deck = slides.DECKS[name]
    index = min(max(index, 0), len(deck.slides) - 1)
    slide = deck.slides[index]
    st.session_state[DECK], st.session_state[INDEX] = name, index
    st.session_state[SCROLL] = slide.section
    st.session_state["_ui_page"] = None  # pages/controls.py: read the URL, as on entering
    st.session_state.setdefault("_ui_saved", {}).pop(name, None)  # unset ones: defaults
    st.switch_page(deck.page, query_params={**slides.query(slide), "present": "true"})


def start(name: str, index: int = 0) -> None:
    """Start computing every slide of the deck in the background, then open one."""
    slides.precompute(name, first=index)
    go(name, index)


def end() -> None:
    for key in (DECK, INDEX, SCROLL):
        st.session_state.pop(key, None)


def _progress(name: str, running: bool) -> None:
    job = slides.job(name)
    if job is None:
        return
    finished, total = job.progress()
    if finished < total:
        st.progress(finished / total, text=f"Computing the slides ahead: {finished} of "
                                           f"{total} ready")
        return
    if running:  # it finished since the last full run: redraw without the timer
        st.rerun()
    if job.failed:
        st.caption(f"{len(job.failed)} of {total} slides could not be computed ahead; "
                   "they compute when opened.")
    else:
        st.caption(f"All {total} slides are computed: each one opens from the cache.")


# While a deck is on, Next and Previous navigate: the sidebar's page list gives way, so
# that the slide controls sit at the top of the sidebar on a 1280x720 projector.
SLIDES_CSS = "<style>[data-testid=stSidebarNav]{display:none}</style>"


def bar() -> None:
    """The sidebar's slide controls while a deck is on: where we are, Previous, Next,
    End, and the precompute's progress; otherwise, in presenter mode, a link to Slides."""
    current = active()
    if current is None:
        if presenting():
            st.sidebar.page_link("pages/slides.py", label="Slides: step through a page",
                                 icon="🎞️")
        return
    deck, index = current
    slide = deck.slides[index]
    if presenting():
        st.html(SLIDES_CSS)
    box = st.sidebar.container(border=True)
    box.markdown(f"**🎞️ {deck.title}**: slide {index + 1} of {len(deck.slides)}")
    box.caption(f"Section: {slide.section}  \n**{slide.title}**" + (
        f"  \nNext: {deck.slides[index + 1].title}" if index + 1 < len(deck.slides)
        else "  \nThe last slide."))
    buttons = box.container(horizontal=True, gap="small")
    back = buttons.button("Previous", key="slides:previous", icon=":material/arrow_back:",
                          disabled=index == 0, shortcut="PageUp",
                          help="The previous slide (PageUp).")
    forward = buttons.button("Next", key="slides:next", icon=":material/arrow_forward:",
                             type="primary", disabled=index == len(deck.slides) - 1,
                             shortcut="PageDown", help="The next slide (PageDown).")
    buttons.button("End", key="slides:end", on_click=end, icon=":material/close:",
                   help="Leave the slides; the page stays as it is.")
    job = slides.job(deck.name)
    running = job is not None and not job.done()
    with box:
        st.fragment(_progress, run_every=1.0 if running else None)(deck.name, running)
    if back:
        go(deck.name, index - 1)
    if forward:
        go(deck.name, index + 1)


SCROLL_SCRIPT = """<script>
(() => {{
  const section = {section};
  const heads = () => [...document.querySelectorAll(
    "[data-testid=stMainBlockContainer] h1, [data-testid=stMainBlockContainer] h2, "
    + "[data-testid=stMainBlockContainer] h3, [data-testid=stExpander] summary")];
  const go = () => {{
    const head = heads().find(h => h.innerText.includes(section));
    if (!head) return;
    const folded = head.closest("details");  // a section folded in presenter mode
    if (head.tagName === "SUMMARY" && folded && !folded.open) head.click();
    head.scrollIntoView({{block: "start"}});
  }};
  [0, 400, 1200].forEach(wait => setTimeout(go, wait));  // again as charts take size
}})();
</script>"""


def scroll_to_section() -> None:
    """After a slide's page has run: scroll to the slide's section, once (opening it if
    presenter mode folded it into an expander)."""
    section = st.session_state.pop(SCROLL, None)
    if section:
        st.sidebar.html(SCROLL_SCRIPT.format(section=json.dumps(section)),
                unsafe_allow_javascript=True, width="content")
