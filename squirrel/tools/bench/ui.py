"""`squirrel bench --ui`: the console's snapshot view of a bench snapshot in headless chromium (issue 15).

Two figures, read from the page's own clock (performance.now(), no driver round trip in them):
  ui_first_rows_ms  navigation start of /ui/snapshots/<id> → the first value rows painted
  ui_filter_ms      the filter form submitted (an address typed in "Address contains", Enter) → the
                    rows replaced by the matching ones, painted
"Painted" is the frame after the rows are in the DOM (requestAnimationFrame, then a task). It drives
Debian's chromium (/usr/bin/chromium) with Playwright, never a downloaded browser; without either the
figures are skipped with the reason.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from squirrel.tools.bench import figures as fg

if TYPE_CHECKING:
    from squirrel.tools.bench.harness import Bench

UI_KEYS = ("ui_first_rows_ms", "ui_filter_ms")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Resolves once the frame showing the first value rows has been painted: ms since navigation start.
_FIRST_ROWS = """async () => {
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  while (!document.querySelector("#values tbody tr[data-pv]")) await frame();
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  return performance.now();
}"""
# Marks the rows on screen as stale and notes when the filter form is submitted (window, capture: first).
_ARM_FILTER = """() => {
  for (const tr of document.querySelectorAll("#values tbody tr")) tr.dataset.benchStale = "1";
  window.benchSubmittedAt = undefined;
  const mark = () => { window.benchSubmittedAt = performance.now(); };
  window.addEventListener("submit", mark, { capture: true, once: true });
}"""
# Resolves once fresh rows replaced the stale ones and were painted: ms since the submit, rows shown.
_FILTERED = """async () => {
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  const fresh = () => { const tr = document.querySelector("#values tbody tr"); return tr && !tr.dataset.benchStale; };
  while (!fresh()) await frame();
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const rows = document.querySelectorAll("#values tbody tr[data-pv]").length;
  return { ms: performance.now() - window.benchSubmittedAt, rows };
}"""


def chromium() -> str | None:
    """Debian's chromium, when installed."""
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")


def filter_query(setpoints: list[str]) -> str:
    """An address fragment matching about ten pairs: the middle setpoint less its last digit."""
    if not setpoints:
        raise fg.BenchError("no PV to filter on")
    middle = setpoints[len(setpoints) // 2]
    return middle[:-1] if len(middle) > 1 else middle


async def ui_phase(bench: Bench) -> None:
    """Measure the snapshot view `repeat` times; skipped (with the reason) without Playwright or chromium."""
    assert bench.svc is not None and bench.iocs is not None
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        for key in UI_KEYS:
            bench.results.skip(key, "playwright is not installed (pip install playwright; it drives Debian's chromium)")
        return
    executable = chromium()
    if executable is None:
        for key in UI_KEYS:
            bench.results.skip(key, "chromium is not installed (apt-get install chromium)")
        return
    if not bench.snapshots:
        raise fg.BenchError("needs a stored snapshot (snapshot creation failed)")
    base, snapshot = bench.svc.base_url, bench.snapshots[0]
    query = filter_query(bench.iocs.setpoints)
    timeout_ms = 30_000 * bench.cfg.scale
    extras = bench.results.extras
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(timeout_ms)
            await page.goto(f"{base}/ui/signin")
            await page.fill("#key", bench.token)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/ui/")
            extras["ui_browser"] = f"chromium {browser.version}"
            extras["ui_filter_query"] = query
            for _ in range(bench.cfg.repeat):
                await page.goto(f"{base}/ui/snapshots/{snapshot}", wait_until="domcontentloaded")
                painted: float = await _within(page.evaluate(_FIRST_ROWS), timeout_ms, "the first rows")
                bench.results.add("ui_first_rows_ms", painted)
                await page.evaluate(_ARM_FILTER)
                await page.fill("#f-q", query)
                await page.press("#f-q", "Enter")
                done: dict[str, Any] = await _within(page.evaluate(_FILTERED), timeout_ms, "the filtered rows")
                if not done["rows"]:
                    raise fg.BenchError(f"the filter {query!r} left no row (expected about ten)")
                bench.results.add("ui_filter_ms", float(done["ms"]))
                extras["ui_rows_after_filter"] = done["rows"]
        finally:
            await browser.close()


async def _within(awaitable: Any, timeout_ms: float, what: str) -> Any:
    try:
        return await asyncio.wait_for(awaitable, timeout_ms / 1000)
    except TimeoutError:
        raise fg.BenchError(f"the console did not show {what} within {timeout_ms / 1000:.0f} s") from None
