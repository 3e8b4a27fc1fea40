"""Issue 4's scale check: `squirrel sim-ioc --pvs N` plus `squirrel serve`, all N connected.

Prints connect-all time (import → every address connected with a value), then steady-state CPU and RSS
of the service with the simulator's updates running. Usage: python scripts/sim_serve_50k.py [--pvs 50000]
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pvs", type=int, default=50000)
    ap.add_argument("--iocs", type=int, default=4)
    ap.add_argument("--steady", type=float, default=30.0, help="seconds of steady-state sampling")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="squirrel-simserve-", dir="/tmp"))
    listing = work / "pvs.csv"
    t0 = time.monotonic()
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "squirrel",
            "sim-ioc",
            "--pvs",
            str(args.pvs),
            "--iocs",
            str(args.iocs),
            "--list",
            str(listing),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sim.stdout is not None
    addr_list = ""
    for line in sim.stdout:
        if m := re.search(r'EPICS_CA_ADDR_LIST="([^"]+)"', line):
            addr_list = m.group(1)
            break
    print(f"sim-ioc ready in {time.monotonic() - t0:.1f} s: {addr_list}")
    port = free_port()
    env = {
        **os.environ,
        "EPICS_CA_ADDR_LIST": addr_list,
        "EPICS_CA_AUTO_ADDR_LIST": "NO",
        "SQUIRREL_DATA_DIR": str(work / "data"),
        "SQUIRREL_LOG_LEVEL": "warning",
    }
    serve = subprocess.Popen([sys.executable, "-m", "squirrel", "serve", "--port", str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        key = (
            subprocess.run(
                [sys.executable, "-m", "squirrel", "keys", "create", "measure", "--scopes", "admin"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        headers = {"X-API-Key": key}
        rows = list(csv.DictReader(listing.open(encoding="utf-8")))
        expected = len({a for r in rows for a in (r["Setpoint"], r["Readback"]) if a})
        t_import = time.monotonic()
        r = httpx.post(
            f"{base}/v1/pvs/import",
            content=listing.read_bytes(),
            headers={**headers, "content-type": "text/csv"},
            timeout=120,
        )
        r.raise_for_status()
        print(f"registered {len(r.json())} rows in {time.monotonic() - t_import:.2f} s")
        while True:
            s = httpx.get(f"{base}/v1/health/summary", headers=headers, timeout=10).json()
            if s["connected"] == expected and s.get("stale", 0) == 0:
                break
            time.sleep(0.2)
        print(f"connect-all: {time.monotonic() - t_import:.2f} s after import ({s['total_pvs']} addresses)")
        proc = psutil.Process(serve.pid)
        proc.cpu_percent(None)
        time.sleep(args.steady)
        cpu = proc.cpu_percent(None)
        s = httpx.get(f"{base}/v1/health/summary", headers=headers, timeout=10).json()
        print(
            f"steady state over {args.steady:.0f} s: CPU {cpu:.0f} % of a core, RSS "
            f"{proc.memory_info().rss / 2**20:.0f} MB, updates/s {s.get('updates_per_s')}"
        )
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)
        sim.send_signal(signal.SIGINT)
        sim.wait(60)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
