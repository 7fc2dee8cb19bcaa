"""Browser fixtures: the app served over real HTTP, and headless Chromium.

``live_server`` runs the session's ``app`` with werkzeug's ``make_server`` in a
background thread (no external process). ``browser`` is Debian's /usr/bin/chromium
driven by Playwright for Python (``playwright install`` is never used: the browser
comes from apt). ``page`` records console errors and uncaught page errors in
``page.js_errors`` so a test can assert the screen ran clean.

The test is skipped with a reason when Chromium or Playwright is missing, except
under CI=true, where that is a failure: CI installs both (.ci/run: apt chromium,
requirements-dev.txt playwright). Debian's fonts-wqy-microhei makes Chinese render
in screenshots (without it the text is boxes; the DOM assertions still hold).
"""
from __future__ import annotations

import os
import threading

import pytest

CHROMIUM = os.environ.get("AGENCYDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def live_server(app):
    """Base URL (``http://127.0.0.1:PORT``) of ``app`` served in a thread."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):  # one line per request: too noisy
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _missing(reason: str):
    """Skip on a developer's machine; fail in CI (CI=true), which installs both, so
    a broken install step cannot pass as a skipped test."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} [CI installs it: see .ci/run]", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"browser test needs Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("browser test needs Playwright for Python "
                 "(pip install -r requirements-dev.txt)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh page (own cookies) on the live server; ``page.js_errors`` lists the
    console errors (failed loads included) and uncaught exceptions seen while the
    test ran."""
    context = browser.new_context(base_url=live_server, locale="zh-CN",
                                  timezone_id="Asia/Shanghai",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text} "
                                                 f"({msg.location.get('url', '')})")
            if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.js_errors = errors
    try:
        yield page
    finally:
        context.close()
