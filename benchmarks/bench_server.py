"""Cold start, memory and many sessions, measured on a real `streamlit run` + chromium.

Prints:
- cold start: seconds from launching `streamlit run` to the home page's title, and to
  the first chart of a topic page (The problem), in a browser; then, on a second fresh
  server, to The problem's first chart when its link is the server's first request (a
  class following a link);
- beside them, the floor: a bare Python process that only imports TensorFlow and Keras;
- resident memory (RSS) of the server after one visit to every page with defaults;
- RSS after 10 concurrent browser sessions each open a topic page;
- naive baseline beside it: RSS of a bare Python process that only imports TensorFlow.
Goals: first chart <= 10 s (issue 10), RSS <= 1.2 GB after every page, <= 1.6 GB with 10
(issue 7).

Run: PYTHONPATH=. .venv/bin/python benchmarks/bench_server.py
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

from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = re.findall(r'st\.Page\("pages/(\w+)\.py"', (ROOT / "streamlit_app.py").read_text())
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
CHART = "[data-testid=stVegaLiteChart]"


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def cold_server(env, playwright):
    """`streamlit run` on a free port, and chromium: (browser, base URL, start time), the
    server stopped at the end."""
    port = free_port()
    start = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
                               "--server.headless", "true", "--server.port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            yield server, browser, f"http://127.0.0.1:{port}", start
        finally:
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_healthy(base: str) -> None:
    while True:
        try:
            urllib.request.urlopen(base + "/_stcore/health", timeout=1)
            return
        except OSError:
            time.sleep(0.1)


def seconds_until(tab, url: str, selector: str, start: float) -> float:
    """Open `url`; seconds from `start` until `selector` is visible."""
    tab.goto(url)
    tab.wait_for_selector(selector, timeout=120_000)
    return time.perf_counter() - start


def deep_link_first(playwright, env) -> float:
    """Seconds from `streamlit run` to The problem's first chart, its link first."""
    with cold_server(env, playwright) as (_, browser, base, start):
        tab = browser.new_page()
        wait_healthy(base)
        return seconds_until(tab, base + "/problem", CHART, start)


def main() -> None:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    floor = time.perf_counter()
    bare = subprocess.run([sys.executable, "-c", "import tensorflow, keras, resource;"
                           "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024)"],
                          capture_output=True, text=True, env=env)
    floor = time.perf_counter() - floor
    with sync_playwright() as playwright:
        with cold_server(env, playwright) as (server, browser, base, start):
            tab = browser.new_page()
            wait_healthy(base)
            home = seconds_until(tab, base + "/", "h1", start)
            first_chart = seconds_until(tab, base + "/problem", CHART, start)
            for name in PAGES:
                tab.goto(base + "/" + ("" if name == "home" else name))
                tab.wait_for_selector("h1", timeout=120_000)
                tab.wait_for_selector(IDLE, state="attached", timeout=300_000)
            every_page = rss_mb(server.pid)
            tabs = [browser.new_context().new_page() for _ in range(10)]
            topics = [name for name in PAGES if name != "home"]
            for index, other in enumerate(tabs):
                other.goto(base + "/" + topics[index % len(topics)])
            for other in tabs:
                other.wait_for_selector("h1", timeout=300_000)
                other.wait_for_selector(IDLE, state="attached", timeout=300_000)
            ten = rss_mb(server.pid)
        deep = deep_link_first(playwright, env)
    print(f"naive baseline: bare python importing tensorflow+keras, {floor:.1f} s, max RSS "
          f"{float(bare.stdout.strip() or 'nan'):.0f} MB")
    print(f"cold start to home page title: {home:.1f} s")
    print(f"cold start to first chart of The problem, after Home: {first_chart:.1f} s "
          f"(goal <= 10 s)")
    print(f"cold start to first chart of The problem, its link first: {deep:.1f} s "
          f"(goal <= 10 s)")
    print(f"server RSS after one visit to each of {len(PAGES)} pages: {every_page:.0f} MB "
          f"(goal <= 1200 MB)")
    print(f"server RSS after 10 more concurrent sessions: {ten:.0f} MB (goal <= 1600 MB)")


if __name__ == "__main__":
    main()
