"""Swagger UI in a real browser with no network: Debian's headless Chromium (driven by Playwright, never a
downloaded browser) loads /schema/swagger from the server on loopback, every other request is refused,
the operations render, Authorize takes an API key and "Try it out" gets a 200 with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, Request

from tests.conftest import make_settings
from tests.support.browser import CHROMIUM, TIMEOUT_MS, chromium, loopback_only
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed here (.ci/run installs it with apt-get install chromium)",
)


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(database_url)) as s:
        yield s


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


async def offline_page(browser: Browser, refused: list[str]) -> Page:
    """A page whose every non-loopback request is aborted (and recorded)."""
    page = await browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    await page.route("**/*", loopback_only(refused))
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
