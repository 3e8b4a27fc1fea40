"""Debian's headless Chromium driven by Playwright (never a downloaded browser), cut off from every network
but loopback: a request to any other host is aborted and recorded."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import Browser, Route, async_playwright

CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
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


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """The headless browser, closed on exit."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


def loopback_only(refused: list[str]) -> Callable[[Route], Awaitable[None]]:
    """A route handler (page.route / context.route "**/*") that lets loopback, data: and blob: through and
    aborts, recording its URL in `refused`, any other request."""

    async def only_loopback(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK or url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            refused.append(url)
            await route.abort()

    return only_loopback
