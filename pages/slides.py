"""Slides: a topic page's sections as a sequence of saved views, stepped through with
Next and Previous in presenter mode, every slide computed ahead in the background."""
import streamlit as st

from core import slides
from pages import slideshow, ui

st.title("🎞️ Slides")
ui.intro(
    "For a lecture: pick a page and step through its sections with **Next** and "
    "**Previous** in the sidebar (or PageDown and PageUp, what a presentation clicker "
    "sends). Each slide is a saved view of the page, its settings in the URL, shown in "
    "presenter mode. When a deck starts, every slide's results are computed in the "
    "background, so that stepping on answers at once instead of making the class wait "
    "for TensorFlow.")

current = slideshow.active()
for deck in slides.DECKS.values():
    with st.container(border=True):
        st.subheader(deck.title)
        st.markdown("\n".join(f"{number}. **{slide.section}**: {slide.title}"
                              for number, slide in enumerate(deck.slides, start=1)))
        job = slides.job(deck.name)
        if job is not None:
            finished, total = job.progress()
            st.caption(f"Computed ahead in this server: {len(job.ready)} of {total} "
                       f"slides" + ("" if finished == total else " (computing...)"))
        buttons = st.container(horizontal=True, gap="small")
        if buttons.button(f"Start: {len(deck.slides)} slides", key=f"start:{deck.name}",
                          icon=":material/slideshow:", type="primary",
                          help="Presenter mode on, first slide of this page; every "
                               "slide is computed in the background from now on."):
            slideshow.start(deck.name)
        if current is not None and current[0].name == deck.name:
            if buttons.button(f"Resume at slide {current[1] + 1}",
                              key=f"resume:{deck.name}", icon=":material/play_arrow:"):
                slideshow.go(deck.name, current[1])

st.caption("A slide keeps the page's controls in its link, as every view does: change a "
           "slider on a slide and the link in the sidebar still reproduces what is shown.")
