"""The operator console in a real browser (Debian's headless Chromium driven by Playwright, never a
downloaded browser; every non-loopback request refused) against a real `squirrel serve` and a caproto IOC.

One walk through an operator's day, in order: sign in; import the registry (checked first); take a
snapshot and watch it finish; change a value on the IOC and see it change live; compare with live and
find exactly that PV; restore it with the wizard and undo it. Then a read-only key: no restore control,
and the server refuses a restore forced by hand. A screenshot of every page is written to SCREENSHOTS
(or pytest's tmp dir) as a test artefact.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from caproto.sync.client import read as ca_read
from caproto.sync.client import write as ca_write
from playwright.async_api import Page, expect

from tests.support.browser import CHROMIUM, TIMEOUT_MS, chromium, loopback_only
from tests.support.ops import PREFIX, REGISTRY_CSV, Server, ops_fixtures
from tests.support.restore_ioc import RestoreIOC
from tests.support.server import RunningServer

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
    pytest.mark.timeout(600),
]
SP0 = f"{PREFIX}00:P00000:SP"
LAST_PAGES = [
    ("00-overview-after", ""),
    ("10-jobs", "jobs"),
    ("11-audit", "audit"),
    ("12-keys", "keys"),
    ("13-health", "health"),
]
FAILURES = Path(os.environ.get("SCREENSHOTS") or "/tmp")


ioc, slow_ioc, server = ops_fixtures()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ["SCREENSHOTS"]) if os.environ.get("SCREENSHOTS") else tmp_path_factory.mktemp("console")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    return {}


@asynccontextmanager
async def browser_page(refused: list[str]) -> AsyncIterator[Page]:
    """A fresh browser whose every request off loopback is aborted (and recorded)."""
    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 1400, "height": 900}, timezone_id="Europe/Paris")
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        await context.route("**/*", loopback_only(refused))
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            yield page
        except BaseException:
            # What the browser saw when a step failed: a screenshot and its console errors.
            await page.screenshot(path=str(FAILURES / "failure.png"), full_page=True)
            print("browser console errors:", errors)
            raise


async def sign_in(page: Page, server: Server | RunningServer, key: str) -> None:
    await page.goto(f"{server.url}/")  # a browser opening / is sent to the console, then to sign-in
    await expect(page).to_have_url(f"{server.url}/ui/signin")
    await page.get_by_label("API key").fill(server.tokens[key])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{server.url}/ui/")


async def shot(page: Page, shots: Path, name: str) -> None:
    await page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


async def tag_id(server: Server, group: str, name: str) -> str:
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": server.tokens["admin"]}) as client:
        for g in (await client.get("/v1/tags")).json():
            if g["name"] == group:
                (detail,) = (await client.get(f"/v1/tags/{g['id']}")).json()
                return str(next(t["id"] for t in detail["tags"] if t["name"] == name))
    raise AssertionError(f"no tag {group}={name}")


async def test_operator_walk_through(server: Server, shots: Path, state: dict[str, Any], tmp_path: Path) -> None:
    refused: list[str] = []
    async with browser_page(refused) as page:
        await sign_in(page, server, "admin")
        await expect(page.locator("#counts")).to_contain_text("Connected")
        await shot(page, shots, "01-overview")

        # PV registry: a CSV with a bad row is refused line by line before anything is written.
        await page.get_by_role("link", name="PV registry").click()
        bad = tmp_path / "bad.csv"
        bad.write_text(REGISTRY_CSV + f"{SP0},,,duplicate,,\n")
        await page.locator("#import-panel summary").click()
        await page.set_input_files("#csv", str(bad))
        await page.get_by_role("button", name="Check file").click()
        await expect(page.locator("#import-errors")).to_contain_text("duplicate Setpoint")
        await expect(page.locator("#import-result")).to_contain_text("nothing was written")
        await expect(page.locator("#total")).to_contain_text("0 PVs")
        await shot(page, shots, "02-pvs-import-errors")
        good = tmp_path / "good.csv"
        good.write_text(REGISTRY_CSV)
        await page.set_input_files("#csv", str(good))
        await page.get_by_role("button", name="Check file").click()
        await expect(page.locator("#import-result")).to_contain_text("5 rows are fine")
        await page.get_by_role("button", name="Import", exact=True).click()
        await expect(page.locator("#import-result")).to_contain_text("Imported 5 PVs")
        await expect(page.locator("#total")).to_contain_text("5 PVs")
        await shot(page, shots, "03-pvs")
        # Add, edit and delete one PV by hand; the tag filter lists the imported tags.
        await page.locator("#edit-panel summary").click()
        await page.get_by_label("Setpoint address").fill("OPS:HAND:SP")
        await page.get_by_label("Description", exact=True).fill("added by hand")
        await page.get_by_role("button", name="Save").click()
        await expect(page.locator("#total")).to_contain_text("6 PVs")
        hand = page.locator("#pvs tbody tr", has_text="OPS:HAND:SP")
        await hand.get_by_role("button", name="Edit").click()
        await page.get_by_label("Description", exact=True).fill("edited by hand")
        await page.get_by_role("button", name="Save").click()
        await expect(hand).to_contain_text("edited by hand")
        page.once("dialog", lambda dialog: dialog.accept())
        await hand.get_by_role("button", name="Delete").click()
        await expect(page.locator("#total")).to_contain_text("5 PVs")
        await page.locator("#tags").select_option(label="RING")
        await page.get_by_role("button", name="Search").click()
        await expect(page.locator("#total")).to_contain_text("1 PVs")

        # Take a snapshot of Area=LINAC (direct read) and watch its job finish.
        await page.get_by_role("link", name="Snapshots").click()
        await page.locator("#take summary").click()
        await page.get_by_label("Title", exact=True).fill("linac morning")
        await page.get_by_label("a direct read of every PV").check()
        await page.locator("#t-tags").select_option(await tag_id(server, "Area", "LINAC"))
        await page.get_by_role("button", name="Take snapshot").click()
        await expect(page.locator("#take-result")).to_be_visible()
        await expect(page.locator("#take-progress progress")).to_have_attribute("value", "100")
        await shot(page, shots, "04-snapshots")
        await page.locator("#take-result").click()
        await expect(page.locator("#title")).to_have_text("linac morning")
        state["snapshot_url"] = page.url
        # Golden mark (admin); times are local with UTC on hover.
        await page.get_by_role("button", name="Mark golden").click()
        await expect(page.locator("#meta")).to_contain_text("★ golden")
        await expect(page.get_by_role("button", name="Remove golden")).to_be_visible()
        assert (await page.locator("#meta time").get_attribute("title") or "").endswith(" UTC")
        row = page.locator(f"tr[data-pv='{SP0}']")
        live_sp = row.locator("td").nth(1)
        original = float(ca_read(SP0, repeater=False).data[0])
        await expect(live_sp).not_to_have_text("…")
        await expect(live_sp).not_to_contain_text("differs")

        # A change on the IOC shows up live, in place, marked as different from the saved value.
        ca_write(SP0, original + 42.5, notify=True, repeater=False)
        await expect(live_sp).to_contain_text("differs")
        await expect(live_sp).to_have_attribute("data-value", str(original + 42.5))
        await shot(page, shots, "05-snapshot-live")
        # The server-side filter finds exactly that PV.
        await page.get_by_label("only different from live").check()
        await page.get_by_role("button", name="Filter").click()
        await expect(page.locator("#matched")).to_contain_text("1 of 3 PVs match")
        await expect(page.locator("#values tbody tr")).to_have_count(1)

        # Compare with live: exactly that PV.
        await page.get_by_role("link", name="Compare with live").click()
        await expect(page.locator("#diffs tbody tr")).to_have_count(1)
        await expect(page.locator("#diffs tbody tr")).to_have_attribute("data-pv", SP0)
        await expect(page.locator("#diffs tbody tr")).to_contain_text("42.5")
        await shot(page, shots, "06-compare-live")

        # The restore wizard brings the IOC back to the snapshot's value.
        await page.goto(state["snapshot_url"])
        await page.get_by_role("link", name="Restore…").click()
        # The plan reads live state: the changed PV is a write, the two unchanged ones are equal.
        await expect(page.locator("#plan-counts tr[data-action='write'] td")).to_have_text("1")
        await expect(page.locator("#plan-counts tr[data-action='equal'] td")).to_have_text("2")
        # Options recompute the plan; equal PVs stay `equal` whether or not they will be skipped.
        await page.get_by_label("skip PVs already equal").check()
        await expect(page.locator("#plan-counts tr[data-action='write'] td")).to_have_text("1")
        await expect(page.locator("#plan-counts tr[data-action='equal'] td")).to_have_text("2")
        # Selecting by device recomputes it too (all three LINAC pairs are on DEV0).
        await page.locator("#sel-devices").select_option("DEV1")
        await page.get_by_role("button", name="Recompute plan").click()
        await expect(page.locator("#error")).to_contain_text("No PV of this snapshot")
        await page.locator("#sel-devices").select_option("DEV0")
        await page.get_by_role("button", name="Recompute plan").click()
        await expect(page.locator("#selected")).to_have_text("3 PVs selected.")
        await expect(page.locator("#plan-counts tr[data-action='write'] td")).to_have_text("1")
        await page.get_by_label("force: write targets outside drive limits").check()
        await expect(page.locator("#force-warning")).to_be_visible()
        await page.get_by_label("force: write targets outside drive limits").uncheck()
        await page.get_by_label("verify readbacks after each stage").check()
        await expect(page.get_by_role("button", name="Restore now")).to_be_disabled()
        await page.get_by_label("Type the snapshot's title to confirm").fill("linac morning")
        await shot(page, shots, "07-restore-plan")
        await page.get_by_role("button", name="Restore now").click()
        await expect(page.locator("#outcome")).to_contain_text("Restored", timeout=60_000)
        await expect(page.locator("#progress")).to_have_attribute("value", "100")
        assert float(ca_read(SP0, repeater=False).data[0]) == pytest.approx(original)
        await shot(page, shots, "08-restore-outcome")

        # Undo: the pre-restore backup goes through the same wizard.
        undo_href = await page.locator("#undo").get_attribute("href")
        assert undo_href is not None
        backup_id = undo_href.split("/")[3]
        await page.locator("#undo").click()
        await expect(page.locator("#snap-title")).not_to_have_text("…")
        backup_title = (await page.locator("#snap-title").inner_text()).strip("“”")
        await page.get_by_label("skip PVs already equal").check()
        await expect(page.locator("#plan-counts tr[data-action='write'] td")).to_have_text("1")
        await page.get_by_label("Type the snapshot's title to confirm").fill(backup_title)
        await page.get_by_role("button", name="Restore now").click()
        await expect(page.locator("#outcome")).to_contain_text("Restored", timeout=60_000)
        assert float(ca_read(SP0, repeater=False).data[0]) == pytest.approx(original + 42.5)
        await shot(page, shots, "09-undo-outcome")

        # Two snapshots: the morning one against the backup taken before the restore (SP0 moved by 42.5).
        snapshot_id = state["snapshot_url"].rstrip("/").split("/")[-1]
        await page.goto(f"{server.url}/ui/compare?a={snapshot_id}&b={backup_id}")
        await expect(page.locator("#diffs tbody tr")).to_have_count(1)
        await expect(page.locator("#diffs tbody tr td").nth(4)).to_have_text("42.5")
        await page.get_by_role("button", name="Sort by |delta|").click()
        await expect(page.get_by_role("button", name="Sort by |delta|")).to_have_attribute("aria-pressed", "true")
        async with page.expect_download() as download_info:
            await page.get_by_role("button", name="Download CSV").click()
        download = await download_info.value
        csv_text = await anyio.Path(await download.path()).read_text()
        assert csv_text.splitlines()[0].startswith("pvName,side") and SP0 in csv_text
        await shot(page, shots, "06b-compare-snapshots")

        for name, path in LAST_PAGES:
            await page.goto(f"{server.url}/ui/{path}")
            await expect(page.locator("tbody tr").first).to_be_visible()
            await page.wait_for_timeout(300)
            await shot(page, shots, name)
        await expect(page.locator("#error")).to_be_hidden()

        # Keys (admin): create one, its token shown once; revoke it.
        await page.goto(f"{server.url}/ui/keys")
        await page.get_by_label("Name").fill("console-made")
        await page.get_by_role("button", name="Create key").click()
        await expect(page.locator("#new-token")).to_contain_text("sq_")
        made = page.locator("#keys tbody tr", has_text="console-made")
        page.once("dialog", lambda dialog: dialog.accept())
        await made.get_by_role("button", name="Revoke").click()
        await expect(made.filter(has_text="✔ active")).to_have_count(0)  # gone, or listed as revoked

        # Sign out: the console is closed again.
        await page.get_by_role("button", name="Sign out").click()
        await expect(page).to_have_url(f"{server.url}/ui/signin")
    assert refused == [], f"the console tried the network: {refused}"


async def test_read_only_key_sees_no_restore_and_cannot_force_one(server: Server, shots: Path) -> None:
    refused: list[str] = []
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": server.tokens["admin"]}) as client:
        snapshots = (await client.get("/v1/snapshots")).json()
    assert snapshots, "the walk-through test made a snapshot first"
    sid = snapshots[-1]["id"]
    async with browser_page(refused) as page:
        await sign_in(page, server, "read")
        await expect(page.get_by_role("link", name="API keys")).to_have_count(0)
        # Keyboard first: Tab reaches "Skip to content", then the navigation in order.
        await page.keyboard.press("Tab")
        await expect(page.locator(":focus")).to_have_text("Skip to content")
        await page.keyboard.press("Tab")
        await expect(page.locator(":focus")).to_have_text("Overview")
        await page.goto(f"{server.url}/ui/snapshots/{sid}")
        await expect(page.locator("#title")).not_to_have_text("Snapshot")
        await expect(page.get_by_role("link", name="Restore…")).to_have_count(0)
        await expect(page.locator("#labels-form")).to_have_count(0)
        await shot(page, shots, "14-read-only-snapshot")
        # By hand, with the session's own CSRF token: the server still refuses.
        status, detail = await page.evaluate(
            """async (sid) => {
                const csrf = document.cookie.split('; ').find((c) => c.startsWith('squirrel_csrf=')).split('=')[1];
                const r = await fetch(`/v1/snapshots/${sid}/restore`, {method: 'POST',
                    headers: {'X-Squirrel-CSRF': csrf, 'Content-Type': 'application/json'}, body: '{}'});
                return [r.status, (await r.json()).detail];
            }""",
            sid,
        )
        assert status == 403 and "restore" in detail
        response = await page.goto(f"{server.url}/ui/snapshots/{sid}/restore")
        assert response is not None and response.status == 403
        await expect(page.locator("h1")).to_have_text("Not allowed")
        await shot(page, shots, "15-read-only-restore-refused")
    assert refused == [], f"the console tried the network: {refused}"


async def test_a_second_restore_shows_the_running_one(
    server: Server, slow_ioc: RestoreIOC, shots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test's own caproto client must find the slow IOC too.
    monkeypatch.setenv("EPICS_CA_ADDR_LIST", f"{os.environ['EPICS_CA_ADDR_LIST']} 127.0.0.1:{slow_ioc.port}")
    refused: list[str] = []
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": server.tokens["admin"]}) as client:
        r = await client.post(
            "/v1/pvs/import", content=b"Setpoint,Device\nOPSR:slow,SLOW\n", headers={"content-type": "text/csv"}
        )
        assert r.status_code == 201, r.text
        pv_id = r.json()["ids"][0]
        r = await client.post("/v1/snapshots?async=false&use_cache=false", json={"title": "slow one", "pvIds": [pv_id]})
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        ca_write(
            "OPSR:slow", 5.0, notify=True, repeater=False, timeout=10
        )  # its put takes 2 s: a restore lasts that long
        async with browser_page(refused) as page:
            await sign_in(page, server, "admin")
            await page.goto(f"{server.url}/ui/snapshots/{sid}/restore")
            await expect(page.locator("#plan-counts tr[data-action='write'] td")).to_have_text("1")
            await page.get_by_label("Type the snapshot's title to confirm").fill("slow one")
            running = await client.post(f"/v1/snapshots/{sid}/restore", json={"backup": False})
            assert running.status_code == 202, running.text
            job_id = running.json()["jobId"]
            await page.get_by_role("button", name="Restore now").click()
            notice = page.locator("#running")
            await expect(notice).to_contain_text("Another restore is running")
            await expect(notice.get_by_role("link")).to_have_attribute("href", f"/ui/jobs#{job_id}")
            await shot(page, shots, "16-restore-already-running")
            # Its progress is followed to the end, like our own.
            await expect(page.locator("#outcome")).to_contain_text("Restored", timeout=60_000)
    assert float(ca_read("OPSR:slow", repeater=False).data[0]) == pytest.approx(1.0)
    assert refused == []
