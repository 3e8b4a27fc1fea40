"""`squirrel sim-ioc` as a real process: it serves its PVs over Channel Access and lists them for import."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import Api

CAGET = """
import asyncio, json, sys
from aioca import caget
async def main():
    values = await caget(sys.argv[1:], timeout=10)
    print(json.dumps([float(v) if hasattr(v, '__float__') else str(v) for v in values]))
asyncio.run(main())
"""


def _start_sim(listing: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "squirrel", "sim-ioc", "--pvs", "100", "--iocs", "2", "--prefix", "E2E:",
         "--list", str(listing)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, "sim-ioc exited before printing its address list"
        if m := re.search(r'EPICS_CA_ADDR_LIST="([^"]+)"', line):
            return proc, m.group(1)
    raise AssertionError("sim-ioc printed no address list within 60 s")


def _caget(addr_list: str, names: list[str]) -> list[object]:
    """Read over Channel Access from a fresh process (libca reads its address list once per process)."""
    env = {**os.environ, "EPICS_CA_ADDR_LIST": addr_list, "EPICS_CA_AUTO_ADDR_LIST": "NO"}
    got = subprocess.run([sys.executable, "-c", CAGET, *names], env=env, capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    values: list[object] = json.loads(got.stdout)
    return values


async def test_sim_ioc_serves_and_lists_pvs_for_import(api: Api, tmp_path: Path) -> None:
    listing = tmp_path / "pvs.csv"
    proc, addr_list = await asyncio.to_thread(_start_sim, listing)
    try:
        assert len(addr_list.split()) == 2
        rows = list(csv.DictReader(listing.open(encoding="utf-8")))
        pairs = [r for r in rows if r["Readback"]]
        assert len(pairs) == 50 and {"Setpoint", "Readback", "Device", "Description"} <= set(rows[0])
        values = await asyncio.to_thread(_caget, addr_list, [pairs[0]["Setpoint"], pairs[-1]["Readback"]])
        assert len(values) == 2  # both IOCs answered over Channel Access

        imported = await api.post("/v1/pvs/import", content=listing.read_bytes(), headers={"content-type": "text/csv"})
        assert imported.status_code == 201, imported.text
        page = (await api.get("/v1/pvs/paged?pageSize=1")).json()
        assert page["totalCount"] == len(rows)
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.to_thread(proc.wait, 30)
    assert proc.returncode == 0
