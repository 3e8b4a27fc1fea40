"""Pure parts of the bench: statistics and targets, the table, the generated soft-IOC database, metrics, progress."""

from __future__ import annotations

import io

from squirrel.cli.demo import registry_csv
from squirrel.progress import Progress
from squirrel.tools.bench.figures import p99
from squirrel.tools.bench.report import BASELINES, FIGURES, Results, build_json, table
from squirrel.tools.bench.service import parse_metrics
from squirrel.tools.bench.softioc import BLOCK_SIZE, TICK_HZ, generate_db, split


def test_medians_ranges_ratios_and_verdicts() -> None:
    r = Results()
    for v in (3.0, 1.0, 2.0):
        r.add("raw_camonitor_all_s", v)
    for v in (1.0, 1.8, 1.2):
        r.add("monitor_connect_all_s", v)
    r.add("max_updates_per_s", 40_000)
    r.add("list_snapshots_s", 0.2)
    r.error("restore_s", "restore: HTTP 404")
    report = build_json(r, {"pvs": 10})
    assert report["raw_camonitor_all_s"] == 2.0
    assert report["ranges"]["monitor_connect_all_s"] == [1.0, 1.8]
    assert report["ratios"]["monitor_connect_all_s/raw_camonitor_all_s"] == 0.6
    assert report["targets"]["monitor_connect_all_s"] == {
        "target": "≤ 0.8 × raw_camonitor_all_s",
        "limit": 1.6,
        "pass": True,
    }
    assert report["targets"]["max_updates_per_s"]["pass"] is True
    assert report["targets"]["list_snapshots_s"]["pass"] is False
    assert report["targets"]["restore_s"]["pass"] is None
    # Every figure is present; the unmeasured ones are null with a reason.
    for key in FIGURES + BASELINES:
        assert key in report
        assert report[key] is not None or key in report["errors"]
    assert report["errors"]["restore_s"] == "restore: HTTP 404"
    text = table(report)
    assert "monitor_connect_all_s" in text and "PASS" in text and "FAIL" in text
    assert "! restore_s: restore: HTTP 404" in text


def test_first_error_wins() -> None:
    r = Results()
    r.error("x", "root cause")
    r.error("x", "consequence")
    assert r.errors["x"] == "root cause"


def test_generated_database_pairs_blocks_and_background() -> None:
    text, pairs, blocks, background = generate_db("B:I0:", 100, 600)
    assert len(pairs) == 600
    assert pairs[0] == ("B:I0:SP00100", "B:I0:RB00100")
    assert text.count("record(ao,") == 600
    assert text.count("record(ai,") == 60  # every tenth readback is an ai following its setpoint
    assert sum(b.size for b in blocks) == 540  # the calc readbacks, all driven by load blocks
    assert all(b.size <= BLOCK_SIZE for b in blocks)
    assert blocks[0].rate == BLOCK_SIZE * TICK_HZ
    assert background == 60
    assert 'field(EGU, "mA")' in text and 'field(HSV, "MINOR")' in text and 'field(PREC, "3")' in text


def test_split_covers_every_pair_once() -> None:
    parts = split(50_001, 4)
    assert sum(c for _, c in parts) == 25_000
    assert [f for f, _ in parts] == [0, 6250, 12500, 18750]
    assert split(2, 4) == [(0, 1)]


def test_parse_metrics_sums_label_sets() -> None:
    text = (
        "# HELP squirrel_pvs_connected x\n"
        "squirrel_pvs_connected 42.0\n"
        'squirrel_live_clients{transport="sse"} 2.0\n'
        'squirrel_live_clients{transport="ws"} 1.0\n'
        "squirrel_pv_updates_total 1.5e+06\n"
    )
    m = parse_metrics(text)
    assert m == {"squirrel_pvs_connected": 42.0, "squirrel_live_clients": 3.0, "squirrel_pv_updates_total": 1.5e6}


def test_p99() -> None:
    assert p99([float(i) for i in range(1, 101)]) == 99.0
    assert p99([5.0]) == 5.0


def test_progress_plain_stream() -> None:
    out = io.StringIO()
    with Progress(4, "bench", stream=out) as bar:
        bar.step("a")
        bar.set("b")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("bench  25%") and lines[0].endswith(" a")
    assert lines[-1].startswith("bench 100%")


def test_demo_registry_csv_skips_registered() -> None:
    class P:
        def __init__(self, i: int) -> None:
            self.setpoint, self.readback = f"D:{i}:SP", f"D:{i}:RB"
            self.device, self.description, self.kind = "D", f"pair {i}", "double"

    body, n = registry_csv([P(0), P(1), P(2)], {"D:1:SP"})
    assert n == 2
    lines = body.strip().splitlines()
    assert lines[0] == "Setpoint,Readback,Device,Description,Area,Kind"
    assert lines[1].startswith("D:0:SP,D:0:RB,D,pair 0,Sector 1,double")
    assert "D:1:SP" not in body


def test_job_times_split_a_job_into_queue_run_and_the_rest() -> None:
    from squirrel.tools.bench.figures import job_times

    job = {
        "createdAt": "2026-12-06T10:00:00.000+00:00",
        "startedAt": "2026-12-06T10:00:00.050+00:00",
        "completedAt": "2026-12-06T10:00:01.250+00:00",
    }
    assert job_times(job, 1.4) == {"queued_s": 0.05, "run_s": 1.2, "http_and_polling_s": 0.15, "end_to_end_s": 1.4}
    assert job_times({"createdAt": "2026-12-06T10:00:00+00:00", "startedAt": None}, 0.5) == {"end_to_end_s": 0.5}


def test_the_libca_floor_targets_are_judged_and_shown() -> None:
    r = Results()
    r.add("raw_caput_s", 2.0)
    r.add("restore_s", 0.6)  # limit 0.1 * 2.0 + 0.3 = 0.5
    r.add("snapshot_cache_s", 0.1)
    report = build_json(r, {"pvs": 50_000})
    floors = report["floor_targets"]
    assert floors["restore_s"] == {"target": "≤ 0.1 × raw_caput_s + 0.3 s", "limit": 0.5, "pass": False}
    assert floors["snapshot_cache_s"]["pass"] is True
    assert floors["snapshot_direct_s"]["pass"] is None  # not measured
    text = table(report)
    assert "libca floor (issue 16, at 50K): restore_s 0.600 ≤ 0.1 × raw_caput_s + 0.3 s (0.500) FAIL" in text
    assert "snapshot_direct_s" not in text.split("libca floor")[1].split("\n")[0]
