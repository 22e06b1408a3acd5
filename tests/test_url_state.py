"""URL-bound controls: no state leaks between pages, every URL checked from one declaration.

Pages are walked in one AppTest session the way a browser walks them: Streamlit opens
a page reached from the sidebar with a clean query string, so the walks clear it
between pages (and, in the random walks, sometimes keep it, as a hand-edited URL would).
"""
import itertools
import random
import re

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT

PAGES = re.findall(r'st\.Page\("(pages/\w+\.py)"', (ROOT / "streamlit_app.py").read_text())
TOPICS = [page for page in PAGES  # the pages with URL-bound controls
          if not page.endswith(("home.py", "slides.py"))]
WIDGETS = ("slider", "select_slider", "selectbox", "radio", "number_input", "multiselect")


def session() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def visit(at: AppTest, page: str, keep_query: bool = False) -> AppTest:
    if not keep_query:
        at.query_params.clear()
    at.switch_page(page).run()
    assert not at.exception, (page, at.exception)
    return at


def bound_widgets(at: AppTest):
    """(kind, widget) for every URL-bound control on the page (page-scoped keys)."""
    for kind in WIDGETS:
        for widget in getattr(at, kind):
            if widget.key and ":" in widget.key and not widget.disabled:
                yield kind, widget


def real_options(at: AppTest, widget) -> list:
    """The option values the page declared for a URL-bound widget (its Controls field):
    AppTest shows only their labels, and a widget with a format_func takes values."""
    controls = at.session_state["_ui_controls"]
    return list(controls.fields[widget.key.split(":", 1)[1]].options)


def set_something(at: AppTest, rng: random.Random) -> None:
    """Give one control of the page a random non-default value, and rerun."""
    choices = list(bound_widgets(at))
    if not choices:
        return
    kind, widget = rng.choice(choices)
    if kind in ("select_slider", "selectbox", "radio"):
        options = real_options(at, widget)
        others = [o for o in options if o != widget.value]
        widget.set_value(rng.choice(others or options))
    elif kind == "multiselect":
        options = real_options(at, widget)
        widget.set_value(rng.sample(options, min(2, len(options))))
    else:  # slider, number_input: the top of the range exercises the bounds
        widget.set_value(type(widget.value)(widget.proto.max))
    at.run()
    assert not at.exception, (kind, widget.key, at.exception)


def test_the_reported_crash_path_activations_home_remedies_through_time():
    at = session()
    at.query_params["steps"] = "1000"  # a link into Remedies with 1000 training steps
    visit(at, "pages/remedies.py", keep_query=True)
    assert at.select_slider(key="remedies:steps").value == 1000
    for page in ("pages/home.py", "pages/activations.py", "pages/home.py",
                 "pages/remedies.py"):
        visit(at, page)
    assert at.select_slider(key="remedies:steps").value == 1000  # kept by this session
    assert at.query_params["steps"] == "1000"  # and in its share link
    visit(at, "pages/through_time.py")
    assert at.slider(key="through_time:steps").value == 50 and not at.warning
    visit(at, "pages/remedies.py", keep_query=True)
    assert at.select_slider(key="remedies:steps").value == 1000


def test_every_ordered_pair_of_pages_in_one_session():
    at = session()
    rng = random.Random(0)
    for first, second in itertools.permutations(PAGES, 2):
        visit(at, first)
        set_something(at, rng)
        visit(at, second)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_walks_of_forty_pages(seed):
    rng = random.Random(seed)
    at = session()
    for _ in range(40):
        visit(at, rng.choice(PAGES), keep_query=rng.random() < 0.3)
        set_something(at, rng)


def controls_of(page: str):
    at = session()
    visit(at, page)
    return at.session_state["_ui_controls"].fields


def bad_values(field) -> dict[str, list[str]]:
    """One bad URL value of each kind that applies to this field."""
    bad = {"text": ["fast"], "markup": ["<b>x</b>"], "empty": [""], "nan": ["nan"],
           "inf": ["inf"]}
    if field.bounds:
        low, high, step = field.bounds
        bad["out of range"] = [str(high * 10 + 1)]
        if step not in (None, 1):
            bad["off grid"] = [str(low + step * 0.4)]
        elif isinstance(low, int):
            bad["off grid"] = [str(low + 0.5)]
    elif field.options and all(isinstance(o, (int, float)) for o in field.options):
        ordered = sorted(field.options)
        bad["off grid"] = [repr((ordered[0] + ordered[1]) / 2)]
        bad["out of range"] = [repr(ordered[-1] * 10 + 1)]
    good = field.encode(field.options[-1] if field.options else field.bounds[1])
    bad["repeated"] = [good if isinstance(good, str) else good[0], "fast"]
    return bad


CASES = [(page, kind) for page in TOPICS for kind in
         ("text", "markup", "empty", "nan", "inf", "out of range", "off grid", "repeated")]


@pytest.mark.parametrize("page,kind", CASES)
def test_bad_urls_warn_by_name_and_the_value_named_is_the_value_used(page, kind):
    fields = controls_of(page)
    query = {name: values for name, field in fields.items()
             if (values := bad_values(field).get(kind))}
    query["not_a_setting"] = "1"
    at = session()
    at.query_params.update({k: (v if len(v) > 1 else v[0]) for k, v in query.items()})
    visit(at, page, keep_query=True)
    warnings = [w.value for w in at.warning]
    assert any("`not_a_setting`" in line for line in warnings)
    assert "not_a_setting" not in at.query_params
    assert not [line for line in warnings if "<b>" in line and "`<b>x</b>`" not in line]
    controls = at.session_state["_ui_controls"]
    for name in query:
        if name == "not_a_setting":
            continue
        lines = [line for line in warnings if line.startswith(f"URL parameter `{name}`")]
        if any("not a setting of this page" in line for line in lines):
            continue  # a control drawn only for another choice (Remedies' other scenario)
        if kind == "off grid" and fields[name].many:
            assert lines, (name, warnings)
        if not lines:  # e.g. an off-grid value that a free slider takes as it is
            assert kind == "off grid" and not fields[name].bounds[2], (name, warnings)
            continue
        used = re.search(r"Using `([^`]*)`\.$", lines[-1]).group(1)
        value = at.session_state[controls.key(name)]
        shown = ", ".join(map(str, value)) if isinstance(value, list) else (
            f"{value:g}" if isinstance(value, float) else str(value))
        assert used == shown, (name, lines[-1], value)


def test_off_grid_and_repeated_and_too_many_values(app):
    at = app("pages/problem.py", {"stddev": "0.03", "gain": "3"})
    text = " ".join(w.value for w in at.warning)
    assert "`stddev`" in text and "Using `0.02`" in text
    assert at.select_slider(key="problem:stddev").value == 0.02
    assert "`gain`" in text and "Using `1.5`" in text
    assert at.slider(key="problem:gain").value == 1.5
    at = app("pages/initialization.py", {"inits": ["bogus", "he_normal"],
                                         "n_in": "1.5"})
    text = " ".join(w.value for w in at.warning)
    assert "`bogus`" in text and at.multiselect(key="initialization:inits").value == [
        "he_normal"]
    assert "Using `128`" in text and at.number_input(key="initialization:n_in").value == 128
    five = ["glorot_normal", "he_normal", "lecun_normal", "orthogonal", "he_uniform"]
    at = app("pages/initialization.py", {"inits": five})
    assert any("at most 4" in w.value for w in at.warning)
    assert at.multiselect(key="initialization:inits").value == five[:4]


def test_warnings_go_once_a_control_changes(app):
    at = app("pages/problem.py", {"depth": "999"})
    assert at.warning
    at.run()
    assert at.warning  # still true of what is shown
    at.slider(key="problem:depth").set_value(30).run()
    assert not at.warning and at.query_params["depth"] == "30"


def test_the_legacy_pages_workaround_still_has_its_streamlit_attribute():
    from streamlit.runtime.pages_manager import PagesManager
    assert hasattr(PagesManager, "uses_pages_directory"), (
        "pages/controls.py's _use_the_router relies on PagesManager.uses_pages_directory, "
        "which this Streamlit no longer has: deep links would bypass the router")
