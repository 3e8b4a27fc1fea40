"""Swagger UI in a real browser with no network: Debian's headless Chromium (driven by Playwright, never a
downloaded browser) loads /schema/swagger from the server on loopback, every other request is refused,
the operations render, Authorize takes an API key and "Try it out" gets a 200 with it."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, Request, Route, async_playwright

from tests.conftest import make_settings
from tests.support.server import RunningServer, run_server

CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed here (.ci/run installs it with apt-get install chromium)",
)
# As root, in a closed network: no sandbox, and none of Chromium's own background connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TIMEOUT_MS = 30_000


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(database_url)) as s:
        yield s


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
        )
        try:
            yield b
        finally:
            await b.close()


async def offline_page(browser: Browser, refused: list[str]) -> Page:
    """A page whose every non-loopback request is aborted (and recorded)."""
    page = await browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    async def only_loopback(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK or url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            refused.append(url)
            await route.abort()

    await page.route("**/*", only_loopback)
    return page


async def test_swagger_renders_offline_and_authorize_works(server: RunningServer, browser: Browser) -> None:
    refused: list[str] = []
    page = await offline_page(browser, refused)
    sent_keys: list[str | None] = []

    def record(request: Request) -> None:
        if urlsplit(request.url).path == "/v1/api-keys/count":
            sent_keys.append(request.headers.get("x-api-key"))

    page.on("request", record)
    await page.goto(f"{server.url}/schema/swagger")

    # The operations render (from the inline document, with the JS this server serves).
    await page.locator(".opblock").first.wait_for()
    assert await page.locator(".opblock").count() > 40
    assert await page.locator(".opblock-summary-path[data-path='/v1/api-keys/count']").count() == 1

    # Authorize with an admin key.
    await page.locator("button.authorize").first.click()
    dialog = page.locator(".modal-ux")
    await dialog.locator("input").first.fill(server.tokens["admin"])
    await dialog.locator("button.modal-btn.auth.authorize").click()
    await dialog.locator("button.modal-btn.auth:not(.authorize)").first.wait_for()  # "Logout": accepted
    await dialog.locator("button.btn-done, button.close-modal").first.click()

    # Try it out on an admin-only operation: the key goes along and the answer is 200.
    op = page.locator(".opblock", has=page.locator(".opblock-summary-path[data-path='/v1/api-keys/count']"))
    await op.locator(".opblock-summary").click()
    await op.locator("button.try-out__btn").click()
    await op.locator("button.execute").click()
    status = op.locator(".live-responses-table .response .response-col_status").first
    await status.wait_for()
    assert (await status.inner_text()).strip() == "200"
    assert sent_keys == [server.tokens["admin"]]
    assert refused == [], f"the docs page tried the network: {refused}"
    await page.close()


async def test_redoc_renders_offline(server: RunningServer, browser: Browser) -> None:
    refused: list[str] = []
    page = await offline_page(browser, refused)
    await page.goto(f"{server.url}/schema/redoc")
    await page.get_by_text("/v1/api-keys/count").first.wait_for(state="attached")
    assert await page.locator("h2").count() > 40  # one heading per operation
    # At most ReDoc's own attribution logo is tried; it hides itself when it cannot load.
    assert all(urlsplit(u).path.endswith((".svg", ".png")) for u in refused), refused
    await page.close()
