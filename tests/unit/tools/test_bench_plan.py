"""Choosing the bench's figure phases (`--only`, `--ui`), skipped figures in the report, the UI phase's skips."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from squirrel.tools.bench import ui
from squirrel.tools.bench.plan import PHASES, chosen, parse_only, skip_reason, step_count
from squirrel.tools.bench.report import Results, build_json, table


def test_parse_only_keeps_run_order_and_refuses_unknown_names() -> None:
    assert parse_only(None) == ()
    assert parse_only("restore, snapshots,restore") == ("restore", "snapshots")
    assert chosen(("restore", "snapshots"), ui=False) == ["snapshots", "restore"]
    with pytest.raises(ValueError, match=r"unknown phase\(s\) warp; choose from baselines, register"):
        parse_only("snapshots,warp")
    with pytest.raises(ValueError, match="no phase named"):
        parse_only(" , ")


def test_the_console_phase_runs_only_when_asked_for() -> None:
    assert "ui" not in chosen((), ui=False)
    assert chosen((), ui=True) == list(PHASES)
    assert chosen(("ui",), ui=False) == ["ui"]
    assert skip_reason("ui", ()) == "not requested (add --ui)"
    assert skip_reason("restore", ("ui",)) == "not selected (--only ui)"
    assert step_count(["baselines"]) == 3 and step_count(["ui"]) == 4


def test_skipped_figures_are_null_listed_once_and_not_errors() -> None:
    r = Results()
    r.add("snapshot_cache_s", 0.1)
    r.skip("restore_s", "not selected (--only snapshots)")
    r.skip("ui_filter_ms", "chromium is not installed")
    report = build_json(r, {"pvs": 10})
    assert report["restore_s"] is None and "restore_s" not in report["errors"]
    assert report["skipped"] == {
        "restore_s": "not selected (--only snapshots)",
        "ui_filter_ms": "chromium is not installed",
    }
    assert report["targets"]["ui_filter_ms"] == {"target": "≤ 300 ms", "limit": 300.0, "pass": None}
    text = table(report)
    assert "- skipped, chromium is not installed: ui_filter_ms" in text
    assert "snapshot_cache_s" in text and "\nrestore_s" not in text


def _bench() -> Any:
    return SimpleNamespace(results=Results(), svc=object(), iocs=object(), snapshots=["x"])


async def test_ui_phase_without_chromium_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    bench = _bench()
    monkeypatch.setattr(ui, "chromium", lambda: None)
    await ui.ui_phase(bench)
    assert bench.results.skipped == dict.fromkeys(ui.UI_KEYS, "chromium is not installed (apt-get install chromium)")


async def test_ui_phase_without_playwright_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    bench = _bench()
    monkeypatch.setitem(sys.modules, "playwright.async_api", None)  # import fails as if not installed
    await ui.ui_phase(bench)
    assert all("playwright is not installed" in bench.results.skipped[k] for k in ui.UI_KEYS)


def test_filter_query_matches_about_ten_pairs() -> None:
    setpoints = [f"BENCH:I0:SP{i:05d}" for i in range(100)]
    query = ui.filter_query(setpoints)
    assert sum(query in sp for sp in setpoints) == 10
    assert Path(ui.chromium() or "/usr/bin/chromium").name == "chromium"
