"""`squirrel bench --scale` and `--profile`: size parsing, per-size config, growth verdicts, profile summaries."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from squirrel.tools.bench.harness import BenchConfig
from squirrel.tools.bench.profile import summarise
from squirrel.tools.bench.report import BASELINES, FIGURES
from squirrel.tools.bench.scale import (
    PEAK_RSS_LIMIT_MB,
    build_scale_report,
    config_for,
    merge_rounds,
    parse_sizes,
    round_order,
    run_scale,
    scale_table,
)


def test_sizes_are_sorted_and_checked() -> None:
    assert parse_sizes("200000, 50_000") == (50_000, 200_000)
    for bad, why in (
        ("50000", "at least two"),
        ("50000,abc", "not a comma-separated list"),
        ("1,50000", "at least 2"),
        ("50000,50000", "each PV count once"),
    ):
        with pytest.raises(ValueError, match=why):
            parse_sizes(bad)


def test_each_size_gets_enough_iocs_and_its_own_profile_folder(tmp_path: Path) -> None:
    base = BenchConfig(pvs=1, iocs=4, repeat=1, json_path=tmp_path / "all.json", profile_dir=tmp_path / "prof")
    small, large = config_for(base, 50_000), config_for(base, 200_000)
    assert (small.pvs, small.iocs, large.pvs, large.iocs) == (50_000, 4, 200_000, 8)
    assert small.json_path is None  # the combined report is written once, by run_scale
    assert large.profile_dir == tmp_path / "prof" / "200000"
    rounds = replace(base, repeat=3)
    assert config_for(rounds, 200_000, 2).profile_dir == tmp_path / "prof" / "200000" / "round2"
    assert config_for(rounds, 200_000, 2).repeat == 1  # a round is one repeat


def test_rounds_alternate_their_order_so_drift_hits_every_size_alike() -> None:
    assert round_order((50_000, 200_000), 3) == [
        (1, 50_000), (1, 200_000), (2, 200_000), (2, 50_000), (3, 50_000), (3, 200_000),
    ]  # fmt: skip
    assert round_order((1, 2, 3), 1) == [(1, 1), (1, 2), (1, 3)]


def _round(samples: dict[str, list[float]], cpu: float, errors: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "config": {"pvs": 50_000, "repeat": 1},
        "samples": samples,
        "errors": errors or {},
        "skipped": {"ui_filter_ms": "not requested"},
        "extras": {"cpu_seconds": {"restore": {"service": cpu}}},
    }


def test_rounds_of_one_size_merge_into_medians_over_all_samples(tmp_path: Path) -> None:
    lost = {"sse_p99_latency_ms": "no SSE client connected"}
    reports = [
        _round({"restore_s": [1.0], "sse_p99_latency_ms": [90.0]}, 0.7),
        _round({"restore_s": [3.0]}, 0.9, errors=lost),
        _round({"restore_s": [2.0]}, 0.8, errors={"compare_snapshots_s": "HTTP 500"}),
    ]
    merged = merge_rounds(reports)
    assert merged["restore_s"] == 2.0 and merged["ranges"]["restore_s"] == [1.0, 3.0]
    assert merged["sse_p99_latency_ms"] == 90.0  # one round measured it: not lost
    assert "sse_p99_latency_ms" not in merged["errors"]
    assert merged["errors"]["compare_snapshots_s"] == "HTTP 500"  # no round measured it
    assert merged["skipped"] == {"ui_filter_ms": "not requested"}
    assert merged["extras"]["cpu_seconds"] == {"restore": {"service": 0.8}}
    assert len(merged["extras"]["rounds"]) == 3 and merged["config"]["rounds"] == 3
    assert merge_rounds(reports[:1]) is reports[0]

    seen: list[tuple[int, int]] = []

    def run_one(cfg: BenchConfig) -> dict[str, Any]:
        seen.append((cfg.pvs, cfg.repeat))
        return _round({"restore_s": [cfg.pvs / 50_000]}, 1.0)

    report = run_scale(BenchConfig(repeat=2, json_path=tmp_path / "s.json"), (50_000, 200_000), run_one)
    assert seen == [(50_000, 1), (200_000, 1), (200_000, 1), (50_000, 1)]
    assert report["growth"]["restore_s"]["by_size"]["200000"]["growth"] == 4.0


def _run(**figures: float | None) -> dict[str, Any]:
    report: dict[str, Any] = dict.fromkeys(FIGURES + BASELINES)
    report.update(figures)
    report["errors"] = {k: "lost" for k, v in report.items() if v is None and k in figures}
    return report


def test_growth_is_read_against_linear_plus_ten_percent() -> None:
    small = _run(restore_s=1.0, snapshot_cache_s=0.1, max_updates_per_s=40_000, raw_caput_s=4.0, peak_rss_mb=300)
    large = _run(restore_s=4.4, snapshot_cache_s=0.5, max_updates_per_s=8_000, raw_caput_s=20.0, peak_rss_mb=900)
    report = build_scale_report({200_000: large, 50_000: small})
    assert report["sizes"] == [50_000, 200_000]
    growth = report["growth"]
    assert growth["restore_s"]["by_size"]["200000"] == {"growth": 4.4, "limit": 4.4, "pass": True}
    assert growth["snapshot_cache_s"]["by_size"]["200000"]["pass"] is False  # 5× for 4× the PVs
    # A rate may fall by at most the same factor: 40K → 8K updates/s is a 5× fall.
    assert growth["max_updates_per_s"]["kind"] == "rate (falls by)"
    assert growth["max_updates_per_s"]["by_size"]["200000"]["growth"] == 5.0
    assert growth["max_updates_per_s"]["by_size"]["200000"]["pass"] is False
    # The raw client's growth is shown as the reference, never judged.
    assert growth["raw_caput_s"]["by_size"]["200000"] == {"growth": 5.0, "limit": None, "pass": None}
    assert report["peak_rss_pass"] is True and report["peak_rss_limit_mb"] == PEAK_RSS_LIMIT_MB
    # Updates merged under overload are a count of what happened, not a cost: shown, not judged.
    assert growth["overload_merged"]["kind"] == "count"
    assert report["lost_figures"] == {}
    text = scale_table(report)
    assert "restore_s" in text and "4.40× (4.4)" in text and "5.00× ↓ (4.4)" in text
    assert "peak RSS at 200,000 PVs: 900.0 MB (≤ 1,000) PASS" in text


def test_a_lost_figure_is_named_and_not_judged(tmp_path: Path) -> None:
    runs = {50_000: _run(sse_p99_latency_ms=90.0, peak_rss_mb=300), 200_000: _run(sse_p99_latency_ms=None)}
    seen: list[int] = []

    def run_one(cfg: BenchConfig) -> dict[str, Any]:
        seen.append(cfg.pvs)
        return runs[cfg.pvs]

    out = tmp_path / "scale.json"
    report = run_scale(BenchConfig(repeat=1, json_path=out), (50_000, 200_000), run_one)
    assert seen == [50_000, 200_000]  # smallest first
    assert report["growth"]["sse_p99_latency_ms"]["by_size"]["200000"]["pass"] is None
    assert report["lost_figures"] == {"200000": ["sse_p99_latency_ms"]}
    assert report["peak_rss_pass"] is None  # not measured at the largest size
    assert out.read_text().startswith("{")
    assert "! lost at 200,000 PVs: sse_p99_latency_ms" in scale_table(report)


def test_profile_summary_counts_self_and_total_per_function(tmp_path: Path) -> None:
    one = tmp_path / "monitor-1.txt"
    site = "/venv/lib/python3.11/site-packages"
    one.write_text(
        "thread (0x1);run (/usr/lib/python3.11/asyncio/base_events.py:600);"
        "apply (/work/main/squirrel/pv/_cache.py:40) 30\n"
        "thread (0x1);run (/usr/lib/python3.11/asyncio/base_events.py:601);"
        "apply (/work/main/squirrel/pv/_cache.py:41) 10\n"
        f"thread (0x2);execute ({site}/psycopg/cursor.py:10) 60\n"
        "not a sample line\n"
    )
    summary = summarise([one], top=2)
    assert summary["samples"] == 100
    assert summary["self_pct"] == [["execute (psycopg/cursor.py)", 60.0], ["apply (squirrel/pv/_cache.py)", 40.0]]
    total = dict(summarise([one])["total_pct"])  # type: ignore[call-overload]
    assert total["run (stdlib/asyncio/base_events.py)"] == 40.0  # two lines of one function, counted once
    assert total["execute (psycopg/cursor.py)"] == 60.0
    assert "thread (0x2)" not in total  # on every stack: says nothing about the phase
