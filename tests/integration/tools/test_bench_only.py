"""`squirrel bench --only`: a phase run without the service (the raw baselines) measures its figures.

It once asked the service for stored snapshots first, which no phase without a service has: all four
raw figures were lost to an AssertionError.
"""

from __future__ import annotations

import io

import pytest

from squirrel.progress import Progress
from squirrel.tools.bench.harness import BenchConfig, run_bench

pytestmark = pytest.mark.usefixtures("ca_purge")


def test_only_baselines_measures_the_raw_figures() -> None:
    cfg = BenchConfig(pvs=200, iocs=1, repeat=1, only=("baselines",))
    report = run_bench(cfg, Progress(1, stream=io.StringIO()))
    assert report["errors"] == {}
    for key in ("raw_caget_cold_s", "raw_caget_warm_s", "raw_caput_s", "raw_camonitor_all_s"):
        assert report[key] is not None and report[key] > 0, key
    assert "no service ran" in report["skipped"]["peak_rss_mb"]
    assert "not selected" in report["skipped"]["restore_s"]
