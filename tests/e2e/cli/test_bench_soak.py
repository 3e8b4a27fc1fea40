"""`squirrel bench --soak` end to end, very short: it finishes, prints the table, its JSON has the figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.timeout(300)
def test_short_soak_reports_rss_slope_and_descriptors(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    args = ["--pvs", "200", "--iocs", "1", "--soak", "0.5", "--sse-clients", "2", "--json", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "squirrel", "bench", *args], capture_output=True, text=True, timeout=280
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["errors"] == {}, report["errors"]
    assert isinstance(report["soak_rss_slope_mb_per_h"], float)
    assert report["soak_fds_end"] > 0
    soak = report["extras"]["soak"]
    assert soak["fit_from_s"] == 15.0 and soak["live_polls"] > 0 and len(soak["samples_s_rss_mb_fds"]) >= 3
    assert "RSS slope" in done.stdout and "fds start/end" in done.stdout


def test_soak_with_protocol_pva_is_refused_before_starting_anything() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "squirrel", "bench", "--protocol", "pva", "--soak", "1", "--pvs", "10"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "--soak runs against Channel Access IOCs only" in done.stderr
