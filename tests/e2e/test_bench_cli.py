"""`squirrel bench` end to end at a tiny size: it finishes and its JSON carries every key (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from squirrel.tools.bench.report import BASELINES, FIGURES, RATIOS, TARGETS


@pytest.mark.timeout(400)
def test_bench_small_run_writes_every_key(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "squirrel", "bench", "--pvs", "200", "--repeat", "1", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=380,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    for key in FIGURES + BASELINES:
        assert key in report, key
        # Either a number or null with the reason recorded.
        assert isinstance(report[key], int | float) or key in report["errors"], (key, report["errors"])
    assert set(report["ratios"]) == set(RATIOS)
    assert set(report["targets"]) == set(TARGETS)
    assert set(report["baselines"]) == set(BASELINES)
    assert report["config"]["pvs"] == 200
    # The raw aioca baselines depend only on the IOCs and the bench itself.
    for key in BASELINES:
        assert report[key] is not None, report["errors"].get(key)
    assert "register_multi_s" in done.stdout and "peak_rss_mb" in done.stdout  # the printed table
