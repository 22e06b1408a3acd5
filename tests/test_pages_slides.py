"""AppTest: the Slides page and stepping through every deck with Next and Previous.

Each slide's settings parse on its page with no URL warning and are what the widgets
hold; the slide's section is a heading of the page; once the deck's background
precompute has finished, every step answers from core.cache (nothing is computed in
the page's own thread)."""
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from core import cache, slides
from core.through_time import ThroughTimeSpec

BACKGROUND = ("gradient-lab-warmup", "gradient-lab-slides-")


def session() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
    at.run()
    at.query_params.clear()
    at.switch_page("pages/slides.py").run()
    assert not at.exception, at.exception
    return at


def last_computation() -> int:
    return max((number for number, _, _ in cache.computations()), default=0)


def computed_in_the_page_since(number: int) -> list:
    return [(thread, name) for n, thread, name in cache.computations()
            if n > number and not thread.startswith(BACKGROUND)]


def headings(at) -> list[str]:
    return [e.value for kind in ("title", "header", "subheader") for e in getattr(at, kind)] \
        + [e.label for e in at.expander]


def check_slide(at, deck, index):
    slide = deck.slides[index]
    assert not at.exception, (deck.name, index, at.exception)
    assert at.session_state["slides:index"] == index
    assert at.session_state["ui:present"] is True
    url = [w.value for w in at.warning if "URL parameter" in w.value]
    assert not url, (deck.name, index, url)
    for name, value in slide.settings.items():
        assert at.session_state[f"{deck.name}:{name}"] == value, (deck.name, index, name)
    assert any(slide.section in heading for heading in headings(at)), (
        deck.name, slide.section, headings(at))
    assert f"slide {index + 1} of {len(deck.slides)}" in at.sidebar.markdown[0].value


@pytest.mark.parametrize("name", list(slides.DECKS))
def test_stepping_through_a_deck_answers_every_slide_from_the_cache(name):
    deck = slides.DECKS[name]
    at = session()
    at.button(key=f"start:{name}").click().run()
    slides.job(name).thread.join(600)  # the background precompute the start launched
    assert slides.job(name).done() and not slides.job(name).failed
    check_slide(at, deck, 0)
    for index in range(1, len(deck.slides)):
        before = last_computation()
        at.button(key="slides:next").click().run()
        check_slide(at, deck, index)
        assert not computed_in_the_page_since(before), (name, index)
    assert at.button(key="slides:next").disabled
    at.button(key="slides:previous").click().run()
    check_slide(at, deck, len(deck.slides) - 2)
    assert any("slides are computed" in c.value for c in at.sidebar.caption)
    at.button(key="slides:end").click().run()
    assert not at.exception and "slides:deck" not in at.session_state


def test_the_defaults_slides_assume_are_the_pages_own():
    at = session()
    for name, defaults in slides.DEFAULTS.items():
        at.query_params.clear()
        at.switch_page(slides.DECKS[name].page).run()
        fields = at.session_state["_ui_controls"].fields
        expected = defaults or {field: getattr(ThroughTimeSpec(), field)
                                for field in slides.THROUGH_TIME_FIELDS}
        assert {field: fields[field].default for field in expected} == expected, name


def test_a_slide_resets_what_it_leaves_out_and_the_slides_page_resumes(app):
    at = app("pages/problem.py", {"stddev": "0.3", "depth": "20"})
    at.switch_page("pages/slides.py").run()
    at.button(key="start:problem").click().run()
    assert at.slider(key="problem:depth").value == 50  # the slide's view, not the last
    assert at.select_slider(key="problem:stddev").value == 0.05
    at.button(key="slides:next").click().run()
    at.query_params.clear()
    at.switch_page("pages/slides.py").run()
    at.button(key="resume:problem").click().run()
    assert not at.exception and at.session_state["slides:index"] == 1
    assert at.slider(key="problem:gain").value == 0.5
    slides.job("problem").thread.join(600)
