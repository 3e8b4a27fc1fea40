"""`squirrel bench` end to end at a tiny size: it finishes and its JSON carries every key (no timing asserted)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from squirrel.tools.bench.plan import PHASES
from squirrel.tools.bench.report import BASELINES, FIGURES, RATIOS, TARGETS
from squirrel.tools.bench.ui import UI_KEYS

HAVE_CHROMIUM = Path("/usr/bin/chromium").exists() or shutil.which("chromium") is not None


def _bench(*args: str, timeout: float = 380) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "squirrel", "bench", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.timeout(400)
def test_bench_small_run_writes_every_key(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = _bench("--pvs", "200", "--repeat", "1", "--json", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    for key in FIGURES + BASELINES:
        assert key in report, key
        # Either a number or null with the reason recorded.
        assert isinstance(report[key], int | float) or key in report["errors"] or key in report["skipped"], (
            key,
            report["errors"],
        )
    # Without --ui only the console figures are left out, and the table says how to get them.
    assert set(report["skipped"]) == set(UI_KEYS), report["skipped"]
    assert "not requested (add --ui)" in done.stdout
    assert set(report["ratios"]) == set(RATIOS)
    assert set(report["targets"]) == set(TARGETS)
    assert set(report["baselines"]) == set(BASELINES)
    assert report["config"]["pvs"] == 200
    # The raw aioca baselines depend only on the IOCs and the bench itself.
    for key in BASELINES:
        assert report[key] is not None, report["errors"].get(key)
    assert "register_multi_s" in done.stdout and "peak_rss_mb" in done.stdout  # the printed table


@pytest.mark.timeout(200)
def test_only_runs_just_the_named_phase(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = _bench("--pvs", "200", "--repeat", "1", "--only", "snapshots", "--json", str(out), timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["config"]["phases"] == ["snapshots"]
    for key in PHASES["snapshots"].keys:
        assert isinstance(report[key], int | float), report["errors"].get(key)
    others = {k for name, phase in PHASES.items() if name != "snapshots" for k in phase.keys}
    assert set(report["skipped"]) == others
    assert all(report[k] is None for k in others)
    assert not report["errors"], report["errors"]
    # Only the infrastructure and the one phase ran (no baselines, no restore, no load).
    assert set(report["extras"]["phase_seconds"]) == {"IOCs", "PostgreSQL", "service + registry", "snapshots"}
    assert "snapshot_cache_s" in done.stdout and "restore_s  " not in done.stdout


def test_an_unknown_phase_is_refused() -> None:
    done = _bench("--pvs", "200", "--only", "snapshots,warp", timeout=60)
    assert done.returncode != 0
    assert "unknown phase(s) warp" in done.stderr and "choose from baselines, register" in done.stderr
    assert "Traceback" not in done.stderr
    listed = _bench("--help", timeout=60)
    assert all(f"  {name} " in listed.stdout for name in PHASES), listed.stdout


@pytest.mark.skipif(not HAVE_CHROMIUM, reason="Debian's chromium is not installed (apt-get install chromium)")
@pytest.mark.timeout(200)
def test_only_ui_measures_the_console_snapshot_view(tmp_path: Path) -> None:
    pytest.importorskip("playwright")
    out = tmp_path / "bench.json"
    done = _bench("--pvs", "200", "--repeat", "1", "--only", "ui", "--json", str(out), timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["config"]["phases"] == ["ui"]
    for key in UI_KEYS:
        assert isinstance(report[key], int | float) and report[key] > 0, report["errors"].get(key)
        assert report["targets"][key]["limit"] == {"ui_first_rows_ms": 1000, "ui_filter_ms": 300}[key]
        assert key in done.stdout
    assert report["extras"]["ui_rows_after_filter"] == 10  # the filter narrowed the view to ten pairs
