"""The snapshot view's "≠ differs" marker uses the server's compare rule and the PV's tolerances: a live value
inside tolerance is not marked, one outside is (icon, text and "outside tolerance ±X" title), and the marked
rows are exactly those GET /v1/snapshots/{id}?differentFromLive=true selects, before and after live updates.
The page's rule (static/tolerance.js) is also run on a table of cases beside compare.py's. Real browser,
loopback only, SQUIRREL_API_ENVELOPE on (the page unwraps it); live values are written into the cache as
the monitor does (tests.support.server.feed), which reaches the page over the real SSE stream."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Page, expect

from squirrel.pv import ValueOnly, to_wire
from squirrel.services import compare
from tests.conftest import make_settings
from tests.e2e.ui.test_console_browser import CHROMIUM, browser_page, sign_in
from tests.support.server import RunningServer, feed, run_server
from tests.support.snapshots import put_value

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
    pytest.mark.timeout(300),
]
ENUM = {"enum_strings": ["Open", "Closed", "Moving"]}
# name: (abs, rel, saved value, saved type, saved extra, live setpoint value, live extra); readbacks stay
# as saved unless the name says otherwise.
CASES: dict[str, tuple[float, float, Any, str, dict[str, Any], Any, dict[str, Any]]] = {
    "ABS:IN": (0.5, 0.0, 10.0, "double", {"precision": 1}, 10.3, {}),  # shown 10.3 vs 10.0: still inside
    "ABS:OUT": (0.5, 0.0, 10.0, "double", {"precision": 1}, 10.7, {}),
    "REL:IN": (0.0, 0.1, 100.0, "double", {}, 109.0, {}),
    "REL:OUT": (0.0, 0.1, 100.0, "double", {}, 111.0, {}),
    "EXACT:OUT": (0.0, 0.0, 5, "long", {}, 6, {}),
    "NAN:SAME": (0.0, 0.0, math.nan, "double", {}, math.nan, {}),
    "NAN:OUT": (1e9, 0.0, math.nan, "double", {}, 1.0, {}),
    "ENUM:SAME": (0.0, 0.0, "Closed", "enum", {"enum_index": 1, **ENUM}, "Closed", {"enum_index": 1, **ENUM}),
    "ENUM:OUT": (5.0, 0.0, "Closed", "enum", {"enum_index": 1, **ENUM}, "Moving", {"enum_index": 2, **ENUM}),
    "TEXT:OUT": (1.0, 0.0, "abc", "string", {}, "abd", {}),
    "ARRAY:IN": (0.2, 0.0, [1.0, 2.0], "double[]", {}, [1.1, 2.0], {}),
    "ARRAY:LEN": (10.0, 0.0, [1.0, 2.0], "double[]", {}, [1.0, 2.0, 3.0], {}),
    "GONE:SP": (0.0, 0.0, 1.0, "double", {}, 1.0, {"connected": False}),
    "RB:OUT": (0.5, 0.0, 3.0, "double", {}, 3.0, {}),  # its readback moves by 1 (below)
}


def addresses(name: str) -> tuple[str, str]:
    return f"TOL:{name}:SP", f"TOL:{name}:RB"


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(database_url, api_envelope=True)) as s:
        yield s


async def payload(server: RunningServer, method: str, url: str, **kw: Any) -> Any:
    async with server.client("admin") as client:
        r = await client.request(method, url, **kw)
        body = r.json()
        assert body["errorCode"] == 0, body  # the envelope is on: the page has to unwrap it too
        return body["payload"]


async def take_snapshot(server: RunningServer) -> str:
    """The registry (with tolerances), saved values in the cache, one snapshot; then live moves on."""
    body = []
    for name, (abs_t, rel_t, *_rest) in CASES.items():
        sp, rb = addresses(name)
        body.append({"setpointAddress": sp, "readbackAddress": rb, "absTolerance": abs_t, "relTolerance": rel_t})
    await payload(server, "POST", "/v1/pvs/multi", json=body)
    cache = server.ctx.cache
    for name, (_a, _r, value, type_, extra, _live, _lx) in CASES.items():
        for address in addresses(name):
            put_value(cache, address, value, type_, **extra)
    snap = await payload(server, "POST", "/v1/snapshots?async=false", json={"title": "tolerances"})
    for name, (_a, _r, _v, type_, extra, live, live_extra) in CASES.items():
        sp, rb = addresses(name)
        feed(cache, sp, live, type=type_, **{**extra, **live_extra})
    feed(cache, addresses("RB:OUT")[1], 4.0, type="double")
    return str(snap["id"])


async def server_selection(server: RunningServer, sid: str) -> set[str]:
    body = await payload(server, "GET", f"/v1/snapshots/{sid}?differentFromLive=true")
    assert body["matchedCount"] == len(body["pvValues"])
    return {v["pvName"] for v in body["pvValues"]}


async def marked_rows(page: Page) -> set[str]:
    """PVs with a marked live cell (outside tolerance or disconnected), once every live cell is painted."""
    await expect(page.locator("#values td[data-address]:not([data-address=''])", has_text="…")).to_have_count(0)
    marked: list[str] = await page.eval_on_selector_all(
        "#values tbody tr",
        "rows => rows.filter(r => [...r.querySelectorAll('td[data-difference]')].some(c => c.dataset.difference))"
        ".map(r => r.dataset.pv)",
    )
    return set(marked)


async def test_marker_is_the_servers_tolerance_rule(server: RunningServer) -> None:
    sid = await take_snapshot(server)
    expected = {addresses(n)[0] for n in CASES if n.endswith(("OUT", "LEN")) or n == "GONE:SP"}
    assert await server_selection(server, sid) == expected
    refused: list[str] = []
    async with browser_page(refused) as page:
        await sign_in(page, server, "admin")
        await page.goto(f"{server.url}/ui/snapshots/{sid}")
        await expect(page.locator("#matched")).to_contain_text(f"{len(CASES)} of {len(CASES)} PVs match")
        assert await marked_rows(page) == expected

        def live_sp(name: str) -> Any:
            return page.locator(f"tr[data-pv='{addresses(name)[0]}'] td").nth(1)

        # Inside its tolerance: shown as it is (10.3 against 10.0 at precision 1), not marked.
        await expect(live_sp("ABS:IN")).to_have_text("10.3")
        await expect(live_sp("ABS:IN").locator(".flag")).to_have_count(0)
        # Outside: icon and text, and the title names the band.
        flag = live_sp("ABS:OUT").locator(".flag")
        await expect(flag).to_have_text("≠ differs")
        await expect(flag).to_have_attribute("title", "outside tolerance ±0.5 of the saved value")
        await expect(live_sp("REL:OUT").locator(".flag")).to_have_attribute(
            "title", "outside tolerance ±10 of the saved value"
        )
        await expect(live_sp("TEXT:OUT").locator(".flag")).to_have_attribute(
            "title", "outside tolerance ±0 (text and enum values compare exactly) of the saved value"
        )
        rb_cell = page.locator(f"tr[data-pv='{addresses('RB:OUT')[0]}'] td").nth(3)
        await expect(rb_cell).to_contain_text("≠ differs")
        await expect(live_sp("GONE:SP")).to_have_text("✖ disconnected")

        # Live moves on over SSE: ABS:IN leaves its band, ABS:OUT comes back into it.
        cache = server.ctx.cache
        feed(cache, addresses("ABS:IN")[0], 9.2, type="double", precision=1)
        feed(cache, addresses("ABS:OUT")[0], 10.45, type="double", precision=1)
        await expect(live_sp("ABS:IN").locator(".flag")).to_have_text("≠ differs")
        await expect(live_sp("ABS:OUT").locator(".flag")).to_have_count(0)
        moved = (expected - {addresses("ABS:OUT")[0]}) | {addresses("ABS:IN")[0]}
        assert await server_selection(server, sid) == moved
        assert await marked_rows(page) == moved

        # The page's own filter asks the server: it lists exactly the marked rows.
        await page.get_by_label("only different from live").check()
        await page.get_by_role("button", name="Filter").click()
        await expect(page.locator("#matched")).to_contain_text(f"{len(moved)} of {len(CASES)} PVs match")
        shown = await page.eval_on_selector_all("#values tbody tr", "rows => rows.map(r => r.dataset.pv)")
        assert set(shown) == moved
        assert await marked_rows(page) == moved
    assert refused == []


def _saved(value: Any, type_: str, enum_index: int | None) -> dict[str, Any] | None:
    if value is ...:
        return None  # the side was not stored
    return {"value": to_wire(value), "type": type_, "enumIndex": enum_index, "connected": value is not None}


def _live(value: Any, type_: str, enum_index: int | None, connected: bool) -> dict[str, Any]:
    if value is ...:
        return {"connected": False, "error": "not monitored"}
    entry: dict[str, Any] = {"value": to_wire(value), "type": type_, "connected": connected}
    if enum_index is not None:
        entry["enum_index"] = enum_index
    return entry


def _python_rule(case: tuple[Any, ...]) -> str | None:
    """compare.py's verdict on one side (live=True), as `differentFromLive` reaches it."""
    saved, live, _type, s_idx, l_idx, connected, abs_t, rel_t, readback = case
    a = None if saved is ... else ValueOnly(saved, s_idx) if saved is not None else ValueOnly(None, None)
    b = None if live is ... else ValueOnly(live, l_idx, connected) if live is not None else ValueOnly(None, None, False)
    sides = (None, a, None, b) if readback else (a, None, b, None)  # the other side: stored by neither
    key = b"k" * 16
    first = {key: compare.Entry("X", sides[0], sides[1])}
    second = {key: compare.Entry("X", sides[2], sides[3])}
    differences, _ = compare.compare(first, second, {key: (abs_t, rel_t)}, live=True)
    if not differences:
        return None
    return "disconnected" if differences[0].reason == "disconnected" else "outside"


RULE_CASES: list[tuple[Any, ...]] = [
    # saved, live, type, saved enum index, live enum index, connected, abs, rel, readback side
    (1.0, 1.0, "double", None, None, True, 0.0, 0.0, False),
    (1.0, 1.0 + 1e-12, "double", None, None, True, 0.0, 0.0, False),
    (1.0, 1.5, "double", None, None, True, 0.5, 0.0, False),
    (1.0, 1.5000001, "double", None, None, True, 0.5, 0.0, False),
    (0.1 + 0.2, 0.3, "double", None, None, True, 0.0, 0.0, False),
    (-200.0, -180.0, "double", None, None, True, 0.0, 0.1, False),
    (-200.0, -179.0, "double", None, None, True, 0.0, 0.1, False),
    (0.0, 1e-300, "double", None, None, True, 0.0, 1e6, False),
    (math.nan, math.nan, "double", None, None, True, 0.0, 0.0, False),
    (math.nan, 1.0, "double", None, None, True, 1e300, 0.0, False),
    (math.inf, math.inf, "double", None, None, True, 0.0, 0.0, False),
    (math.inf, 1e308, "double", None, None, True, math.inf, 0.0, False),
    (5, 7, "long", None, None, True, 2.0, 0.0, False),
    (5, 8, "long", None, None, True, 2.0, 0.0, False),
    ("NaN", "NaN", "string", None, None, True, 0.0, 0.0, False),
    ("abc", "abd", "string", None, None, True, 100.0, 1.0, False),
    ("Open", "Open", "enum", 0, 1, True, 0.0, 0.0, False),
    ("Open", "Shut", "enum", 0, 0, True, 0.0, 0.0, False),
    ([1.0, math.nan], [1.05, math.nan], "double[]", None, None, True, 0.1, 0.0, False),
    ([1.0, 2.0], [1.0, 2.5], "double[]", None, None, True, 0.1, 0.0, False),
    ([1.0, 2.0], [1.0], "double[]", None, None, True, 9.0, 0.0, False),
    (["a", "b"], ["a", "b"], "string[]", None, None, True, 0.0, 0.0, False),
    (1.0, 1.0, "double", None, None, False, 0.0, 0.0, False),
    (1.0, ..., "double", None, None, False, 0.0, 0.0, False),
    (None, 1.0, "double", None, None, True, 0.0, 0.0, False),
    (None, None, "double", None, None, False, 0.0, 0.0, False),
    (..., 1.0, "double", None, None, True, 0.0, 0.0, True),
    (2.0, 9.0, "double", None, None, True, 0.0, 0.0, True),
]


async def test_page_rule_is_compare_rule_case_by_case(server: RunningServer) -> None:
    refused: list[str] = []
    wire = [
        {
            "saved": _saved(saved, type_, s_idx),
            "live": _live(live, type_, l_idx, connected),
            "tolerance": {"abs": abs_t, "rel": rel_t, "readback": readback},
        }
        for saved, live, type_, s_idx, l_idx, connected, abs_t, rel_t, readback in RULE_CASES
    ]
    async with browser_page(refused) as page:
        await page.goto(f"{server.url}/ui/signin")
        verdicts = await page.evaluate(
            """async (cases) => {
                const { liveDifference } = await import("/ui/static/tolerance.js");
                return cases.map((c) => liveDifference(c.saved, c.live, c.tolerance));
            }""",
            wire,
        )
    expected = [_python_rule(case) for case in RULE_CASES]
    assert verdicts == expected, [(c, v, e) for c, v, e in zip(RULE_CASES, verdicts, expected, strict=True) if v != e]
    assert set(expected) == {None, "outside", "disconnected"}  # the table exercises every verdict
    assert refused == []
