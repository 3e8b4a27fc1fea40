"""`python -m squirrel.tools.bench.registry_sync`: full reload vs incremental apply, measured (no speed asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.timeout(120)
def test_registry_sync_bench_reports_both_paths() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "squirrel.tools.bench.registry_sync", "300"], capture_output=True, text=True, timeout=110
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rows"] == 300 and result["repeat"] == 20
    assert result["full_resync_ms"] > 0 and result["incremental_apply_ms"] > 0
