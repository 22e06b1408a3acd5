"""core/slides.py: the decks (pure data), their URL queries, and the precompute's
thread, progress and failures. The pages side is tests/test_pages_slides.py."""
import re
import threading

import pytest

from conftest import ROOT
from core import slides

ROUTER = (ROOT / "streamlit_app.py").read_text()
TOPICS = re.findall(r'st\.Page\("(pages/\w+\.py)"',  # the router's "Topics" section
                    ROUTER[ROUTER.index('"Topics"'):ROUTER.index("],", ROUTER.index('"Topics"'))])


def test_every_topic_page_has_a_deck_of_distinct_slides():
    assert sorted(deck.page for deck in slides.DECKS.values()) == sorted(TOPICS)
    for name, deck in slides.DECKS.items():
        assert deck.name == name and len(deck.slides) >= 3
        titles = [slide.title for slide in deck.slides]
        assert len(set(titles)) == len(titles), name
        assert all(slide.section and slide.title for slide in deck.slides)
        views = [slides.query(slide) for slide in deck.slides]
        assert len({repr(sorted(v.items())) + s.section for v, s in
                    zip(views, deck.slides)}) == len(views), name  # no slide twice


def test_queries_are_the_texts_the_pages_write():
    slide = slides.Slide("s", "t", {"depth": 150, "gain": 0.5, "dtype": "float64",
                                    "inits": ["he_normal", "orthogonal"], "z": 1.0})
    assert slides.query(slide) == {"depth": "150", "gain": "0.5", "dtype": "float64",
                                   "inits": ["he_normal", "orthogonal"], "z": "1"}


def test_settings_fill_in_the_page_defaults():
    deck = slides.DECKS["problem"]
    index = next(i for i, slide in enumerate(deck.slides) if slide.settings == {"gain": 0.5})
    assert slides.settings(deck, index) == {**slides.DEFAULTS["problem"], "gain": 0.5}


@pytest.fixture
def fake_deck(monkeypatch):
    """A deck whose compute records the slides, and fails on one."""
    done, release = [], threading.Event()

    def compute(values):
        release.wait(10)
        if values.get("fail"):
            raise ValueError("this slide is broken")
        done.append(values["n"])
    deck = slides.Deck("fake", "Fake", tuple(slides.Slide("s", f"slide {n}", {"n": n})
                                             for n in range(4)))
    deck = slides.Deck("fake", "Fake", deck.slides[:2] + (
        slides.Slide("s", "broken", {"n": 2, "fail": True}),) + deck.slides[3:])
    monkeypatch.setitem(slides.DECKS, "fake", deck)
    monkeypatch.setitem(slides.DEFAULTS, "fake", {})
    monkeypatch.setitem(slides.COMPUTE, "fake", compute)
    yield deck, done, release
    release.set()
    slides._jobs.pop("fake", None)


def test_precompute_runs_in_the_background_from_the_first_slide_asked(fake_deck):
    deck, done, release = fake_deck
    job = slides.precompute("fake", first=1)
    assert job.thread.name == "gradient-lab-slides-fake"
    assert job.progress() == (0, 4) and not job.done()  # waiting: in the background
    assert slides.precompute("fake") is job  # one job per deck while it runs
    release.set()
    job.thread.join(10)
    assert done == [1, 3, 0]  # slide 1 first, then on, wrapping around
    assert job.done() and job.progress() == (4, 4)
    assert job.ready == {0, 1, 3} and "this slide is broken" in job.failed[2]
    again = slides.precompute("fake")
    assert again is not job and slides.job("fake") is again  # a finished job restarts
    again.thread.join(10)


def test_compute_makes_the_pages_cached_calls(monkeypatch):
    """compute() for The problem asks core.per_layer.profile for both of the page's
    networks; the second time everything is answered from the cache."""
    from core import cache
    deck = slides.DECKS["problem"]
    small = slides.Deck("problem", deck.title, (slides.Slide("s", "t", {"depth": 3}),))
    last = max([number for number, _, _ in cache.computations()], default=0)
    slides.compute(small, 0)
    first = [name for number, _, name in cache.computations() if number > last]
    assert first.count("_profile") == 2, first
    last = max(number for number, _, _ in cache.computations())
    slides.compute(small, 0)
    assert not [entry for entry in cache.computations() if entry[0] > last]
