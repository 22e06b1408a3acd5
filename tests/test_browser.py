"""Real-browser tests: Playwright drives Debian's chromium against `streamlit run`.

Every page in the router opens with no exception and charts of non-zero size; a
control changes a chart; a bad URL parameter gives a visible warning. On failure a
screenshot is saved under artifacts/. Skipped only outside CI when chromium is absent.
"""
import contextlib
import os
import pathlib
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts"
PAGES = re.findall(r'st\.Page\("pages/(\w+)\.py"', (ROOT / "streamlit_app.py").read_text())
LOAD_TIMEOUT_MS = 180_000

if not pathlib.Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)")
    pytest.skip("chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(script: str, log_name: str):
    """`streamlit run script` (relative to the repo root, or absolute) on a free port."""
    port = free_port()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    log = open(ARTIFACTS.mkdir(exist_ok=True) or ARTIFACTS / log_name, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script,
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", "--client.showErrorDetails", "full"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(base + "/_stcore/health", timeout=2).status == 200:
                break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited; see artifacts/{log_name}")
            time.sleep(0.3)
    else:
        raise RuntimeError("streamlit did not become healthy in 120 s")
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def server():
    with running("streamlit_app.py", "streamlit.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    yield tab
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        name = re.sub(r"\W+", "_", request.node.name)
        tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


def wait_until_idle(tab) -> None:
    """Wait for the script to finish (no sleeps): the app's script-state attribute."""
    tab.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]",
                          timeout=LOAD_TIMEOUT_MS, state="attached")


def open_page(tab, base, path, query=""):
    tab.goto(f"{base}/{path}{query}", timeout=LOAD_TIMEOUT_MS)
    tab.wait_for_selector("[data-testid=stMainBlockContainer] h1", timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(tab)


def choose(tab, selectbox, option: str, attempts: int = 3) -> None:
    """Pick `option` in a select box: open it, type the option to filter the list, click
    it. A list that closes before the click (a CI run once timed out waiting for an option
    that never showed) is opened again, up to `attempts` times."""
    for _ in range(attempts):
        wait_until_idle(tab)
        selectbox.click()
        tab.keyboard.type(option)
        try:
            tab.get_by_role("option", name=option, exact=True).click(timeout=5_000)
            return
        except sync_api.TimeoutError:
            tab.keyboard.press("Escape")
    raise AssertionError(f"the option {option!r} never showed in {attempts} attempts")


def wait_for_text(tab, selector: str, text: str) -> None:
    """Wait until some element matching `selector` shows exactly `text` (no sleeps)."""
    tab.wait_for_function(
        "([selector, text]) => [...document.querySelectorAll(selector)]"
        ".some(e => e.innerText.trim() === text)", arg=[selector, text],
        timeout=LOAD_TIMEOUT_MS)


def wait_for_count(tab, selector: str, count: int) -> None:
    tab.wait_for_function(
        "([selector, count]) => document.querySelectorAll(selector).length >= count",
        arg=[selector, count], timeout=LOAD_TIMEOUT_MS)


def chart_sizes(tab):
    charts = tab.locator("[data-testid=stVegaLiteChart]")
    sizes = []
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        sizes.append((box["width"], box["height"]) if box else (0, 0))
    return sizes


def test_a_deep_link_opened_first_goes_through_the_router(server, page):
    """The server's very first request is a link into a topic page with settings: the
    router (st.navigation) must still run, and the URL must set the controls."""
    open_page(page, server, "problem", "?depth=20&gain=0.5")
    wait_for_text(page, "[data-testid=stMetricValue]", "Vanishing")
    nav = page.locator("[data-testid=stSidebarNav]").inner_text()
    assert "Topics" in nav and "The problem" in nav and "ui" not in nav.split()
    values = page.locator("[data-testid=stMetricValue]").all_inner_texts()
    assert "Vanishing" in values and "1.91e-06" in values  # 0.5^19
    assert page.locator("[data-testid=stException]").count() == 0


@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_without_exception(server, page, name):
    path = "" if name == "home" else name
    open_page(page, server, path)
    assert page.locator("[data-testid=stException]").count() == 0
    if name == "classroom":  # no chart before a class starts: the role switch instead
        role(page, "the instructor").wait_for(timeout=LOAD_TIMEOUT_MS)
        assert page.locator("[data-testid=stException]").count() == 0
        return
    if name == "home":
        page.locator("[data-testid=stMetric]").nth(2).wait_for(timeout=LOAD_TIMEOUT_MS)
        assert page.locator("[data-testid=stException]").count() == 0
        return
    if name == "slides":  # a list of decks, no chart
        from core.slides import DECKS
        first = len(next(iter(DECKS.values())).slides)
        page.get_by_role("button", name=f"Start: {first} slides").first.wait_for(
            timeout=LOAD_TIMEOUT_MS)
        return
    page.locator("[data-testid=stVegaLiteChart] canvas, "
                 "[data-testid=stVegaLiteChart] svg").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    sizes = chart_sizes(page)
    assert sizes and all(width > 100 and height > 50 for width, height in sizes), sizes


def test_changing_a_control_changes_the_chart(server, page):
    open_page(page, server, "problem")
    wait_for_text(page, "[data-testid=stMetricValue]", "Exploding")
    backward = page.locator("[data-testid=stVegaLiteChart]").nth(1)
    backward.locator("canvas, svg").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    before = backward.screenshot()
    page.get_by_role("button", name="a = 0.5").click()
    wait_for_text(page, "[data-testid=stMetricValue]", "Vanishing")
    wait_until_idle(page)
    assert page.locator("[data-testid=stException]").count() == 0
    assert backward.screenshot() != before  # the chart itself was redrawn
    assert "gain=0.5" in page.url
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=stSidebar] [data-testid=stCode]')"
        "?.innerText || '').includes('gain=0.5')", timeout=LOAD_TIMEOUT_MS)
    link = page.locator("[data-testid=stSidebar] [data-testid=stCode]").inner_text()
    assert "/problem?" in link


def wait_for_visible(tab, selector: str, low: int, high: int = 10_000) -> None:
    """Wait until between `low` and `high` elements matching `selector` are displayed."""
    tab.wait_for_function(
        "([selector, low, high]) => { const n = [...document.querySelectorAll(selector)]"
        ".filter(e => e.offsetParent !== null).length; return n >= low && n <= high; }",
        arg=[selector, low, high], timeout=LOAD_TIMEOUT_MS)


def test_predict_first_hides_the_page_charts_until_the_answer_is_committed(server, page):
    """A challenge link turns Predict first on: the page's own charts could give the
    answer away, so none is visible until the student commits; then all come back."""
    chart = "[data-testid=stVegaLiteChart]"
    open_page(page, server, "problem", "?challenge=identity-explode")
    wait_for_main_text(page, "Predict first is on")
    wait_until_idle(page)
    wait_for_visible(page, "[data-testid=stSlider]", 4)  # the page's 3 and the guess
    wait_for_visible(page, chart, 0, 0)
    wait_for_count(page, chart, 3)  # drawn, and hidden
    page.get_by_role("button", name="Commit my answer, then measure").click()
    wait_for_main_text(page, "measured:")
    wait_for_visible(page, chart, 3 + 2)  # the page's charts, the guess and the answer
    assert "Predict first is on" not in main_text(page)


def test_bad_url_parameter_warns_and_page_still_works(server, page):
    open_page(page, server, "problem", "?depth=999&gain=%3Cb%3Ex%3C%2Fb%3E")
    wait_for_count(page, "[data-testid=stAlert]", 2)
    wait_for_count(page, "[data-testid=stVegaLiteChart]", 3)
    alerts = page.locator("[data-testid=stAlert]").all_inner_texts()
    text = " ".join(alerts)
    assert "depth" in text and "999" in text and "<b>x</b>" in text
    assert page.locator("[data-testid=stAlert] b").count() == 0  # markup not rendered
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("[data-testid=stVegaLiteChart]").count() >= 3


def download(page, key: str, tmp_path):
    """Click the visible button of widget `key`; the downloaded file's name and bytes."""
    # With help=, Streamlit also keeps a hidden copy of the button: take the visible one.
    button = page.locator(f".st-key-{key} button:visible")
    button.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    with page.expect_download(timeout=120_000) as download:
        button.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    return saved.name, saved.read_bytes()


def test_png_button_downloads_the_chart(server, page, tmp_path):
    open_page(page, server, "problem")
    name, data = download(page, "chart_forward_png", tmp_path)
    assert name == "problem_forward_L50_a1.5.png"
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    assert page.locator("[data-testid=stException]").count() == 0


def test_csv_button_writes_the_table_when_clicked(server, page, tmp_path):
    """A CSV is written on click (not on every rerun): the file is the page's table."""
    open_page(page, server, "problem", "?depth=12&gain=0.5")
    name, data = download(page, "download_identity", tmp_path)
    assert name == "problem_identity_L12_a0.5.csv"
    lines = data.decode().splitlines()
    assert lines[0].startswith("layer,") and "signal_grad_norm" in lines[0]
    assert len(lines) == 1 + 12  # one row per hidden layer


HEADINGS = {"Home": "Gradient Lab"}  # a page's h1, where it is not its sidebar title


def click_in_sidebar(tab, title: str) -> None:
    tab.locator("[data-testid=stSidebarNav] a", has_text=title).first.click()
    tab.wait_for_function(
        "(title) => [...document.querySelectorAll('h1')].some(h => h.innerText.includes(title))",
        arg=HEADINGS.get(title, title), timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(tab)
    assert tab.locator("[data-testid=stException]").count() == 0, title


def test_walking_the_sidebar_carries_no_state_between_pages(server, page):
    """Activations -> Home -> Remedies -> Through time once crashed: Remedies' 1000
    training steps reached Through time's time-steps slider (at most 200)."""
    open_page(page, server, "remedies", "?steps=1000")
    for title in ("Home", "Activations", "Home", "Remedies"):
        click_in_sidebar(page, title)
    page.wait_for_function("() => location.search.includes('steps=1000')",
                           timeout=LOAD_TIMEOUT_MS)  # Remedies kept its 1000 steps
    click_in_sidebar(page, "Through time")
    wait_for_count(page, "[data-testid=stVegaLiteChart]", 3)
    assert page.locator("[data-testid=stException]").count() == 0
    assert "steps=" not in page.url
    assert "URL parameter" not in " ".join(
        page.locator("[data-testid=stAlert]").all_inner_texts())


def test_png_of_the_overflowing_chart_at_depth_150_downloads(server, page, tmp_path):
    """The reported bug: at depth 150 the axis edge 10**...(a Python int) broke it."""
    open_page(page, server, "problem", "?depth=150")
    name, data = download(page, "chart_backward_png", tmp_path)
    assert name == "problem_backward_L150_a1.5.png"
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    assert page.locator("[data-testid=stDownloadButtonError]").count() == 0
    name, data = download(page, "download_all_charts", tmp_path)
    assert name == "gradient_lab_problem_charts.zip"
    import zipfile
    with zipfile.ZipFile(tmp_path / name) as archive:
        names = archive.namelist()
    assert len(names) == 6 and "problem_backward_L150_a1.5.png" in names
    assert page.locator("[data-testid=stException]").count() == 0


FAILING_APP = """
import altair as alt
import pandas as pd
import streamlit as st
from core.charts import export
from pages import ui

def broken(figure):
    raise export.ExportError("PNG conversion failed: the test broke it")
export.chart_png = broken  # this server only
st.title("Failing export")
ui.chart(alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_point().encode(x="x:Q"),
         key="broken", filename="broken")
st.button("rerun")
"""


def test_a_failed_export_shows_a_message_not_nothing(page, tmp_path):
    script = tmp_path / "failing_export_app.py"
    script.write_text(FAILING_APP)
    with running(str(script), "streamlit_failing_export.log") as base:
        open_page(page, base, "")
        button = page.locator(".st-key-broken_png button:visible")
        button.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
        button.click()
        # Streamlit's own message under the button (5 seconds), then the reason.
        page.locator("[data-testid=stDownloadButtonError]").wait_for(timeout=60_000)
        assert "Failed to generate file" in page.locator(
            "[data-testid=stDownloadButtonError]").inner_text()
        page.get_by_role("button", name="rerun").click()
        wait_for_text(page, "[data-testid=stAlert] code",
                      "Saving PNG failed: PNG conversion failed: the test broke it")
        assert page.locator("[data-testid=stException]").count() == 0


@pytest.mark.parametrize("name", PAGES)
def test_every_page_in_dark_mode_on_a_400px_phone(server, browser, name):
    """The viewer's dark preference is followed, and at 400 px the page renders with no
    exception and no horizontal scrolling of the main text."""
    context = browser.new_context(viewport={"width": 400, "height": 800},
                                  color_scheme="dark")
    tab = context.new_page()
    try:
        open_page(tab, server, "" if name == "home" else name)
        assert tab.locator("[data-testid=stException]").count() == 0
        background = tab.evaluate("getComputedStyle(document.querySelector("
                                  "'[data-testid=stApp]')).backgroundColor")
        red, green, blue = (int(v) for v in re.findall(r"\d+", background)[:3])
        assert red + green + blue < 150, background  # a dark background
        width = tab.evaluate("document.querySelector('[data-testid=stMain]').scrollWidth")
        assert width <= 400, f"{name}: main content is {width} px wide at 400 px"
    except Exception:
        tab.screenshot(path=str(ARTIFACTS / f"dark_400_{name}.png"), full_page=True)
        raise
    finally:
        context.close()


def test_keyboard_focus_is_always_visible(server, page):
    open_page(page, server, "problem")
    page.wait_for_function("[...document.querySelectorAll('style')].some("
                           "s => s.textContent.includes(':focus-visible{outline:3px'))",
                           timeout=LOAD_TIMEOUT_MS)
    outlines = []
    for _ in range(6):
        page.keyboard.press("Tab")
        outlines.append(page.evaluate(
            "(() => { const e = document.activeElement; const s = getComputedStyle(e);"
            " return [e.tagName, s.outlineStyle, s.outlineWidth, e.outerHTML.slice(0, 120)]; })()"))
    focused = [o for o in outlines if o[0] not in ("BODY", "HTML")]
    assert focused, outlines
    assert all(style != "none" and width != "0px" for _, style, width, _ in focused), outlines


TOPICS_BESIDE = ("problem", "why", "initialization", "through_time", "activations",
                 "remedies")


@pytest.mark.parametrize("name", TOPICS_BESIDE)
def test_presenter_mode_shows_the_first_chart_beside_its_slider_at_1280x720(
        server, browser, name):
    """A classroom projector: with ?present=true the first chart and the slider that
    drives it are both inside the 1280x720 viewport, side by side, as the page opens."""
    width, height = 1280, 720
    context = browser.new_context(viewport={"width": width, "height": height})
    tab = context.new_page()
    try:
        open_page(tab, server, name, "?present=true")
        chart = tab.locator("[data-testid=stVegaLiteChart]").first
        chart.locator("canvas, svg").first.wait_for(timeout=LOAD_TIMEOUT_MS)
        # the page settles (a loaded server can still be drawing later sections, which
        # moves things for a moment): wait until the first chart's box is on screen
        tab.wait_for_function(
            "([w, h]) => { const c = document.querySelector('[data-testid=stVegaLiteChart]');"
            " if (!c) return false; const r = c.getBoundingClientRect();"
            " return r.top >= 0 && r.bottom <= h && r.right <= w; }",
            arg=[width, height], timeout=60_000)
        # the page's own first slider (not Predict first's, folded above the sections)
        slider = tab.locator("[data-testid=stSlider]:not([data-testid=stExpander] *)").first
        boxes = {"chart": chart.bounding_box(), "slider": slider.bounding_box()}
        for what, box in boxes.items():
            assert box and box["width"] > 100 and box["height"] > 30, (what, box)
            assert box["x"] >= 0 and box["y"] >= 0, (what, box)
            assert box["x"] + box["width"] <= width, (what, box)
            assert box["y"] + box["height"] <= height, (what, box)
        # beside it, not above or below: the chart starts right of the slider's column
        assert boxes["chart"]["x"] >= boxes["slider"]["x"] + boxes["slider"]["width"]
        assert tab.locator("[data-testid=stException]").count() == 0
    except Exception:
        tab.screenshot(path=str(ARTIFACTS / f"present_1280x720_{name}.png"))
        raise
    finally:
        context.close()


def test_phase_page_draws_the_diagram_and_the_chosen_point(server, page):
    open_page(page, server, "phase", "?depth=10&width=64&sigma_w2=0.5")
    wait_for_count(page, "[data-testid=stVegaLiteChart] canvas, "
                         "[data-testid=stVegaLiteChart] svg", 3)
    for link in ("The Jacobian spectrum", "Born dead: ReLU"):  # the links, after the
        wait_for_main_text(page, link)  # charts (a page link's text can come later)
    text = page.locator("[data-testid=stMainBlockContainer]").inner_text()
    assert "ordered (gradients vanish)" in text and "48 Keras networks (tanh)" in text
    assert page.locator("[data-testid=stException]").count() == 0
    sizes = chart_sizes(page)
    assert len(sizes) == 3 and all(w > 100 and h > 50 for w, h in sizes), sizes
    assert "sigma_w2=0.5" in page.url


def test_activations_page_draws_born_dead(server, page):
    open_page(page, server, "activations", "?dead_depth=20")
    wait_for_main_text(page, "At depth 20:")
    wait_for_count(page, "[data-testid=stVegaLiteChart] canvas, "
                         "[data-testid=stVegaLiteChart] svg", 3)
    assert page.locator("[data-testid=stException]").count() == 0
    sizes = chart_sizes(page)
    assert len(sizes) == 3 and all(w > 100 and h > 50 for w, h in sizes), sizes
    assert "Born dead" in main_text(page) and "dead_depth=20" in page.url


JACOBIAN = "Every direction, not only the average: the Jacobian spectrum"


@pytest.mark.parametrize("name,query,number", [
    ("why", "?depth=12&jacobian_activation=tanh", 4),
    ("initialization", "?grid_depth=10&sweep_depth=5&depth=8&seeds_depth=5", 6)])
def test_the_jacobian_section_draws_its_spectra(server, page, name, query, number):
    """Why it happens and Initialization show the Jacobian spectrum: its heading, its
    sentence of measured numbers, every chart of the page drawn, no exception."""
    open_page(page, server, name, query)
    wait_for_main_text(page, f"{number}. {JACOBIAN}")
    wait_for_main_text(page, "Var λ")
    wait_until_idle(page)
    charts = page.locator("[data-testid=stVegaLiteChart]")
    wait_for_count(page, "[data-testid=stVegaLiteChart] canvas, "
                         "[data-testid=stVegaLiteChart] svg", charts.count())
    assert page.locator("[data-testid=stException]").count() == 0
    sizes = chart_sizes(page)
    assert len(sizes) >= 9 and all(w > 100 and h > 50 for w, h in sizes), sizes
    assert ("tanh" if name == "why" else "linear") + " at σ_w² = " in main_text(page)

def test_your_network_picks_an_architecture_and_draws_its_flow(server, page):
    """Open Your network, choose the LSTM stack in the architecture box: its layers are
    counted and the gradient-flow chart is drawn, with no exception."""
    open_page(page, server, "your_network")
    choose(page, page.locator("[data-testid=stSelectbox]").first, "lstm")
    wait_for_text(page, "[data-testid=stMetricValue]", "5")  # 4 LSTM layers + readout
    wait_until_idle(page)
    assert page.locator("[data-testid=stException]").count() == 0
    assert "architecture=lstm" in page.url
    chart = page.locator("[data-testid=stVegaLiteChart]").first
    chart.locator("canvas, svg").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    box = chart.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 50

# --- the class poll: an instructor and three students, in four browser contexts -----------
def role(tab, name: str):
    """A button of the class poll's "I am" switch (a segmented control)."""
    return tab.locator(".st-key-classroom_role button", has_text=name).first


def main_text(tab) -> str:
    return tab.locator("[data-testid=stMain]").inner_text()


def wait_for_main_text(tab, text: str) -> None:
    tab.wait_for_function(
        "(text) => (document.querySelector('[data-testid=stMain]')?.innerText || '')"
        ".includes(text)", arg=text, timeout=LOAD_TIMEOUT_MS)


def student_answers(tab, choice: str, button: str) -> None:
    tab.locator("[data-testid=stRadio] label", has_text=choice).first.click()
    wait_until_idle(tab)
    tab.get_by_role("button", name=button).click()
    wait_for_main_text(tab, f"Received: {choice}")


def test_a_whole_class_poll_in_four_browsers(server, browser, tmp_path):
    contexts = [browser.new_context(viewport=size) for size in (
        {"width": 1400, "height": 1000}, {"width": 1000, "height": 900},
        {"width": 1000, "height": 900}, {"width": 400, "height": 800})]
    teacher, *students = tabs = [context.new_page() for context in contexts]
    try:
        open_page(teacher, server, "classroom")
        role(teacher, "the instructor").click()
        teacher.get_by_role("button", name="Start a class").click()
        wait_for_main_text(teacher, "Scan to join")
        code = teacher.locator("[data-testid=stMain] h1 code").inner_text().strip()
        assert re.fullmatch(r"[A-Z0-9]{5}", code)
        qr = teacher.locator("[data-testid=stImage] img").bounding_box()
        assert qr and qr["width"] >= 300  # big enough to project
        assert f"?room={code}" in main_text(teacher)
        for tab, name in zip(students, ("Ana", "<i>Zed</i>", "")):
            open_page(tab, server, "classroom", f"?room={code}")  # the join link
            if name:
                box = tab.locator(".st-key-classroom_name input")
                box.fill(name)
                if name == "Ana":  # typed, then Join clicked at once: the name is kept
                    tab.locator(".st-key-classroom_join button").click()
                    wait_for_main_text(tab, "you are Ana")
                    continue
                box.press("Enter")
                wait_until_idle(tab)
            tab.locator(".st-key-classroom_join button").click()
            wait_for_main_text(tab, "Waiting for the instructor")
        assert "<i>Zed</i>" in main_text(students[1])  # the name as text, not markup
        assert students[1].locator("[data-testid=stMain] i").count() == 0
        wait_for_text(teacher, "[data-testid=stMetricValue]", "3")  # joined
        picker = teacher.locator(".st-key-classroom_pick input")
        picker.click()
        picker.fill("50 ReLU layers of 64 units")
        picker.press("Enter")
        wait_until_idle(teacher)
        teacher.get_by_role("button", name="Ask this question").click()
        wait_for_main_text(teacher, "Question 1: 50 ReLU layers")
        for tab in students:
            wait_for_main_text(tab, "Which initialization keeps")
        student_answers(students[0], "glorot_normal", "Send my answer")
        student_answers(students[0], "he_normal", "Change my answer")  # changed
        student_answers(students[1], "random_normal", "Send my answer")
        student_answers(students[2], "he_normal", "Send my answer")
        wait_for_text(teacher, "[data-testid=stMetricValue]", "3 / 3")  # live tally
        teacher.locator("[data-testid=stVegaLiteChart]").first.wait_for(
            timeout=LOAD_TIMEOUT_MS)
        # a student cannot reveal: no such button, and the instructor view offers only
        # a new room of their own
        role(students[2], "the instructor").click()
        students[2].locator(".st-key-classroom_start button").wait_for(
            timeout=LOAD_TIMEOUT_MS)
        wait_until_idle(students[2])
        assert students[2].get_by_role("button", name="Reveal the answer").count() == 0
        assert students[2].get_by_role("button", name="Ask this question").count() == 0
        role(students[2], "a student").click()
        wait_for_main_text(students[2], "Received: he_normal")
        teacher.get_by_role("button", name="Reveal the answer").click()
        wait_for_main_text(teacher, "Measured: he_normal")
        wait_for_count(teacher, "[data-testid=stVegaLiteChart]", 2)  # beside the answers
        wait_for_main_text(students[0], "You were right")
        wait_for_main_text(students[1], "Not this time")
        wait_for_main_text(students[2], "You were right")
        width = students[2].evaluate(
            "document.querySelector('[data-testid=stMain]').scrollWidth")
        assert width <= 400, width  # the phone shows it all without scrolling sideways
        teacher.get_by_role("button", name="End the class").click()
        wait_for_main_text(teacher, "Summary of the class")
        name, data = download(teacher, "classroom_summary_csv", tmp_path)
        assert name == f"gradient_lab_class_{code}.csv"
        rows = data.decode().splitlines()
        assert rows[0].startswith("question,challenge,text,measured,answers,right")
        assert rows[1].startswith("1,relu-init,") and ",he_normal,3,2," in rows[1]
        wait_for_main_text(students[0], "This class has ended")
        for tab in tabs:
            assert tab.locator("[data-testid=stException]").count() == 0
    except Exception:
        for index, tab in enumerate(tabs):
            tab.screenshot(path=str(ARTIFACTS / f"class_poll_{index}.png"), full_page=True)
        raise
    finally:
        for context in contexts:
            context.close()

def in_viewport(box, width, height) -> bool:
    return bool(box) and box["x"] >= 0 and box["y"] >= 0 and \
        box["x"] + box["width"] <= width and box["y"] + box["height"] <= height


def test_slides_step_with_next_and_pagedown_at_1280x720(server, browser):
    """An instructor's lecture: Slides, start The problem's deck, Next (a click), then
    PageDown (a clicker): each slide is the page with the slide's settings in the URL,
    in presenter mode, its chart and slider and the Next button on screen; the deck
    is computed ahead in the background and says so; a later slide scrolls to its
    section."""
    width, height = 1280, 720
    context = browser.new_context(viewport={"width": width, "height": height})
    tab = context.new_page()
    try:
        open_page(tab, server, "slides", "?present=true")
        tab.locator(".st-key-start-problem button:visible").click()
        wait_for_text(tab, "[data-testid=stMetricValue]", "Exploding")
        assert "present=true" in tab.url and "/problem" in tab.url
        next_button = tab.locator(".st-key-slides-next button:visible")
        wait_until_idle(tab)  # Start's reruns done: a click during one can be lost (CI)
        next_button.click()
        wait_for_text(tab, "[data-testid=stMetricValue]", "Vanishing")
        wait_until_idle(tab)
        assert "gain=0.5" in tab.url and "present=true" in tab.url
        chart = tab.locator("[data-testid=stVegaLiteChart]").first
        chart.locator("canvas, svg").first.wait_for(timeout=LOAD_TIMEOUT_MS)
        for what, box in {"chart": chart.bounding_box(),
                          "slider": tab.locator("[data-testid=stSlider]").first.bounding_box(),
                          "next": next_button.bounding_box()}.items():
            assert in_viewport(box, width, height), (what, box)
        from core.slides import DECKS
        deck = DECKS["problem"].slides
        count = len(deck)  # the deck as core.slides has it
        later = 1 + next(i for i, one in enumerate(deck)
                         if one.section == "Not only identity matrices")
        assert f"slide 2 of {count}" in tab.locator("[data-testid=stSidebar]").inner_text()
        tab.locator("body").press("PageDown")
        wait_for_text(tab, "[data-testid=stMetricValue]", "Healthy")  # a = 1
        assert "gain=1" in tab.url
        tab.wait_for_function(
            "(text) => document.querySelector('[data-testid=stSidebar]').innerText"
            ".includes(text)", arg=f"All {count} slides are computed",
            timeout=LOAD_TIMEOUT_MS)
        for number in range(4, later + 1):  # to the section "Not only identity matrices"
            wait_until_idle(tab)
            next_button.click()
            tab.wait_for_function(
                "(text) => document.querySelector('[data-testid=stSidebar]').innerText"
                ".includes(text)", arg=f"slide {number} of {count}", timeout=LOAD_TIMEOUT_MS)
        heading = tab.locator("h2", has_text="Not only identity matrices")
        tab.wait_for_function(
            "() => { const h = [...document.querySelectorAll('h2')].find(e => "
            "e.innerText.includes('Not only identity matrices')); if (!h) return false; "
            "const r = h.getBoundingClientRect(); return r.top >= 0 && r.bottom <= 720; }",
            timeout=30_000)
        assert in_viewport(heading.bounding_box(), width, height)
        assert tab.locator("[data-testid=stException]").count() == 0
    except Exception:
        tab.screenshot(path=str(ARTIFACTS / "slides_1280x720.png"))
        raise
    finally:
        context.close()


def test_a_slide_opens_the_section_presenter_mode_folded(server, browser):
    """Initialization folds "1. The formulas" into an expander in presenter mode; its
    slide opens it, so the class sees the formulas, not a closed box."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    tab = context.new_page()
    try:
        open_page(tab, server, "slides", "?present=true")
        tab.locator(".st-key-start-initialization button:visible").click()
        tab.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=stExpander] details')]"
            ".some(d => d.open && d.innerText.includes('1. The formulas'))",
            timeout=LOAD_TIMEOUT_MS)
        wait_until_idle(tab)
        assert "present=true" in tab.url and "/initialization" in tab.url
        assert tab.locator("[data-testid=stException]").count() == 0
    except Exception:
        tab.screenshot(path=str(ARTIFACTS / "slides_folded_section.png"))
        raise
    finally:
        context.close()
