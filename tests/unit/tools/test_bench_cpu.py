"""The bench's CPU seconds per phase and process group, and their growth in a --scale report."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from squirrel.tools.bench.cpu import PhaseCpu, snapshot, spent
from squirrel.tools.bench.report import BASELINES, FIGURES
from squirrel.tools.bench.scale import build_scale_report, scale_table


def _burn(seconds: float) -> None:
    end = os.times().elapsed + seconds
    while os.times().elapsed < end:
        sum(range(1000))


def test_a_phase_reports_what_each_group_spent_on_real_processes() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        phase = PhaseCpu(lambda: {"bench": [os.getpid()], "idle": [child.pid], "none": []})
        phase.begin()
        _burn(0.3)
        out = phase.end()
    finally:
        child.kill()
        child.wait()
    assert out["bench"] >= 0.2  # it burnt 0.3 s of CPU
    assert out["idle"] < 0.1
    assert "none" not in out  # no process: left out, not a false 0


def test_children_count_for_groups_that_ask_and_gone_processes_are_skipped() -> None:
    spawn = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])"
    parent = subprocess.Popen([sys.executable, "-c", spawn + "; time.sleep(30)"])
    try:
        _burn(0.5)  # time for the child to start
        alone = snapshot({"pg": [parent.pid]})
        family = snapshot({"pg": [parent.pid]}, with_children=frozenset({"pg"}))
    finally:
        for proc in family["pg"]:
            if proc != parent.pid:
                os.kill(proc, 9)
        parent.kill()
        parent.wait()
    assert set(alone["pg"]) == {parent.pid}
    assert len(family["pg"]) == 2
    assert snapshot({"gone": [parent.pid]}) == {"gone": {}}


def test_a_restarted_process_counts_from_zero() -> None:
    before = {"service": {100: 5.0}, "iocs": {7: 1.0, 8: 2.0}}
    after = {"service": {200: 3.0}, "iocs": {7: 1.5, 8: 4.0}}
    assert spent(before, after) == {"service": 3.0, "iocs": 2.5}
    assert spent(before, {"service": {}, "iocs": {7: 1.0}}) == {"iocs": 0.0}  # the service ended meanwhile


def _run(cpu: dict[str, dict[str, float]]) -> dict[str, Any]:
    report: dict[str, Any] = dict.fromkeys(FIGURES + BASELINES)
    report["errors"] = {}
    report["extras"] = {"cpu_seconds": cpu}
    return report


def test_the_scale_report_shows_whose_cpu_grew() -> None:
    small = _run({"monitor connect-all": {"service": 3.0, "iocs": 1.5}})
    large = _run({"monitor connect-all": {"service": 12.0, "iocs": 12.0}})
    report = build_scale_report({50_000: small, 200_000: large})
    row = report["cpu_growth"]["monitor connect-all"]
    assert row["service"] == {"seconds": {"50000": 3.0, "200000": 12.0}, "growth": {"200000": 4.0}}
    assert row["iocs"]["growth"] == {"200000": 8.0}
    text = scale_table(report)
    assert "CPU seconds per phase, 50,000 → 200,000 PVs (growth):" in text
    assert "monitor connect-all: service 3.000 → 12.0 (4.00×); iocs 1.500 → 12.0 (8.00×)" in text
