"""The CA-side figures of `squirrel bench` only, against running soft IOCs, with the service's phase logs.

    .venv/bin/python -m squirrel.tools.bench.softioc --pvs 50000 --iocs 4   # prints EPICS_CA_ADDR_LIST=...
    .venv/bin/python scripts/bench_ca_service.py --addr-list "..." [--repeat 3] [--profile-restore out.txt]

Runs the real service process (embedded PostgreSQL, roles api,monitor,worker) like `squirrel bench`, then
monitor_connect_all_s (service restarts), snapshot_direct_s and restore_s; prints their samples and the
service's restore phase logs. With --profile-restore, py-spy samples the service during the restores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from squirrel.progress import Progress
from squirrel.tools.bench import figures as fg
from squirrel.tools.bench.harness import Bench, BenchConfig


async def run(args: argparse.Namespace) -> dict[str, Any]:
    cfg = BenchConfig(pvs=args.pvs, iocs=args.iocs, repeat=args.repeat, ca_addr_list=args.addr_list)
    b = Bench(cfg, Progress(8, "ca bench"))
    out: dict[str, Any] = {}
    try:
        b.start_iocs()
        await asyncio.to_thread(b.start_postgres)
        await b.main_service()
        if not args.skip_connect:
            await b.monitor_repeats()
        async with b.client() as client:
            for r in range(cfg.repeat):
                elapsed, sid = await fg.take_snapshot(client, f"direct {r}", False, 600)
                b.results.add("snapshot_direct_s", elapsed)
                b.snapshots.append(sid)
        spy = None
        if args.profile_restore:
            assert b.svc is not None
            cmd = [".venv/bin/py-spy", "record", "-r", "250", "-f", "raw", "-o", args.profile_restore]
            spy = subprocess.Popen(  # noqa: ASYNC220 - a profiler started once
                [*cmd, "--pid", str(b.svc.pid), "--threads"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            await asyncio.sleep(1.0)
        await b.restore_phase()
        if spy is not None:
            spy.send_signal(2)
            spy.wait(30)
        out = {k: v for k, v in b.results.samples.items() if v}
        assert b.svc is not None
        log = b.svc.log_path.read_text(errors="replace")
        out["restore_logs"] = [line[-300:] for line in log.splitlines() if "restore" in line and "request" not in line]
        out["errors"] = b.results.errors
    finally:
        b.stop_all()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--addr-list", required=True)
    parser.add_argument("--pvs", type=int, default=50_000)
    parser.add_argument("--iocs", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-connect", action="store_true")
    parser.add_argument("--profile-restore", default="")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args)), indent=1))


if __name__ == "__main__":
    main()
