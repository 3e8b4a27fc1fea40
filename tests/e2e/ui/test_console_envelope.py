"""The console with SQUIRREL_API_ENVELOPE=true: its JavaScript unwraps {errorCode, errorMessage, payload}
and shows an error's message (the problem's detail), never a bare status. Real browser, loopback only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.conftest import make_settings
from tests.e2e.ui.test_console_browser import CHROMIUM, browser_page
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(database_url, api_envelope=True, roles=["api", "worker"])) as s:
        yield s


async def test_enveloped_answers_are_unwrapped_and_errors_show_their_detail(
    server: RunningServer, tmp_path: Path
) -> None:
    async with server.client("admin") as client:
        r = await client.post("/v1/pvs", json={"setpointAddress": "ENV:1:SP", "description": "wrapped"})
        assert r.json()["errorCode"] == 0  # the envelope is on
        r = await client.post("/v1/snapshots?async=false", json={"title": "enveloped"})
        sid = r.json()["payload"]["id"]
    refused: list[str] = []
    async with browser_page(refused) as page:
        await page.goto(f"{server.url}/ui/signin")
        await page.get_by_label("API key").fill(server.tokens["admin"])
        await page.get_by_role("button", name="Sign in").click()
        await page.goto(f"{server.url}/ui/pvs")
        await expect(page.locator("#pvs tbody tr", has_text="ENV:1:SP")).to_contain_text("wrapped")
        await page.goto(f"{server.url}/ui/snapshots")
        await expect(page.locator("#list tbody tr", has_text="enveloped")).to_be_visible()
        await page.goto(f"{server.url}/ui/snapshots/{sid}")
        await expect(page.locator("#title")).to_have_text("enveloped")
        await expect(page.locator("#matched")).to_contain_text("1 of 1 PVs match")
        # A refused request shows the server's words: a CSV without a Setpoint column.
        await page.goto(f"{server.url}/ui/pvs")
        bad = tmp_path / "bad.csv"
        bad.write_text("Address,Readback\nX,Y\n")
        await page.locator("#import-panel summary").click()
        await page.set_input_files("#csv", str(bad))
        await page.get_by_role("button", name="Check file").click()
        await expect(page.locator("#error")).to_contain_text("CSV header must have a 'Setpoint' column")
        await expect(page.locator("#error")).to_contain_text("(400)")
    assert refused == []
