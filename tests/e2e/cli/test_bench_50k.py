"""`squirrel bench --pvs 50000 --iocs 4 --ioc softioc --repeat 1`: every figure measured, none lost.

The 50K run once lost its ingest and SSE figures to a timeout in the load driver's own CA calls. It
took 3.5 minutes on the shared 2-core machine (more when busy): too long for the default suite, so it
is opt-in.
Run it with SQUIRREL_SLOW_TESTS=1 pytest -m slow tests/e2e/cli/test_bench_50k.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from squirrel.tools.bench.report import BASELINES, FIGURES

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("SQUIRREL_SLOW_TESTS") != "1", reason="opt-in: set SQUIRREL_SLOW_TESTS=1"),
]

# Figures that depend on the load driver's CA calls (the ones the flaky run lost).
DRIVER_FIGURES = ("max_updates_per_s", "sse_p99_latency_ms", "overload_rss_mb", "overload_readyz_p99_ms")


@pytest.mark.timeout(3600)
def test_bench_at_50k_measures_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    args = ["--pvs", "50000", "--iocs", "4", "--ioc", "softioc", "--repeat", "1", "--json", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "squirrel", "bench", *args], capture_output=True, text=True, timeout=3500
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert set(FIGURES + BASELINES) <= set(report)
    for key in DRIVER_FIGURES:
        assert report[key] is not None, (key, report["errors"].get(key))
    assert not any("timeout on IO operation" in reason for reason in report["errors"].values()), report["errors"]
    assert report["overload_merged"] is not None and report["extras"]["overload"][0]["offered_per_s"] >= 150_000
