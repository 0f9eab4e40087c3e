"""Fixtures for the browser tests (tests/browser/): a local HTTP server over the built site
and one headless chromium (Debian's /usr/bin/chromium driven by Playwright).

Run after `make book` with `make browser-test`. The tests never skip silently: a missing
site or a missing chromium is a failure. To skip them deliberately, set
BOOK_BROWSER_TESTS=skip (the reason is printed in the pytest summary).
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    if os.environ.get("BOOK_BROWSER_TESTS", "").lower() == "skip":
        mark = pytest.mark.skip(reason="browser tests skipped on request (BOOK_BROWSER_TESTS=skip)")
        for item in items:
            if Path(str(item.fspath)).parent == Path(__file__).parent:
                item.add_marker(mark)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url():
    """Base URL of a local server over _build/html (a thread, stopped at the end)."""
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site at {SITE}: run `make book` first")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def site_browser():
    """One headless chromium for the session."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"chromium not found at {CHROMIUM}: install it (`apt-get install -y chromium`) or "
            "point BOOK_CHROMIUM at it; set BOOK_BROWSER_TESTS=skip to skip these tests on purpose"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
