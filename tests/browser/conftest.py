"""Browser tests: the real pages in headless Chromium (Debian's, not Playwright's download),
against a whole local Greenlight started once per test file."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from local.runtime import LocalRuntime
from tests.support import Http, local_runtime

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium hangs on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000  # a busy 2-core machine (CI) can take seconds for one page
FAILURE_SCREENSHOTS = Path("/tmp/greenlight-browser-failures")
HERE = Path(__file__).parent

expect.set_options(timeout=TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A conftest's collection hook sees every item of the session: mark only this package's.
    mine = [index for index, item in enumerate(items) if HERE in item.path.parents]
    for index in mine:
        items[index].add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    setattr(item, f"report_{report.when}", report)  # the page fixture screenshots failures
    return report


@pytest.fixture(scope="module")  # one per file, as in tests/integration/conftest.py
def runtime() -> Iterator[LocalRuntime]:
    with local_runtime() as running, confirming(running):
        yield running


@contextmanager
def confirming(runtime: LocalRuntime) -> Iterator[None]:
    """Requests sent from the browser's form are confirmed as their requester would, by following
    the link in the confirmation mail: a thread looks at the outbox every 0.2 s."""
    stop = threading.Event()

    def confirm() -> None:
        http = Http(runtime.base_url)
        while not stop.wait(0.2):
            with suppress(Exception):  # the runtime stopping under it
                http.confirm_requests()

    thread = threading.Thread(target=confirm, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


@pytest.fixture
def http(runtime: LocalRuntime) -> Http:
    return Http(runtime.base_url)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser, runtime: LocalRuntime) -> Iterator[BrowserContext]:
    fresh = browser.new_context(
        base_url=runtime.base_url,
        locale="en-GB",
        timezone_id="Europe/Berlin",
        viewport={"width": 1000, "height": 800},
    )
    fresh.set_default_timeout(TIMEOUT_MS)
    fresh.set_default_navigation_timeout(TIMEOUT_MS)
    yield fresh
    fresh.close()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    opened = context.new_page()
    yield opened
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and not opened.is_closed():
        FAILURE_SCREENSHOTS.mkdir(exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name)
        opened.screenshot(path=FAILURE_SCREENSHOTS / f"{name}.png", full_page=True)
