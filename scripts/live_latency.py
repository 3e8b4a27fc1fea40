"""The bench's SSE latency phase alone: caput → SSE diff at N clients under load, against real soft IOCs.

    .venv/bin/python scripts/live_latency.py --pvs 2000 --rounds 3
    .venv/bin/python scripts/live_latency.py --pvs 50000 --iocs 4 --rounds 2 --profile 20

Starts the C soft IOCs, embedded PostgreSQL and `squirrel serve` exactly as `squirrel bench` does,
registers the pairs, waits until every address is connected, then runs `squirrel.tools.bench.load.sse_phase`
`--rounds` times (same probes, clients and offered load as the bench) and prints p50/p95/p99/max of
each round with the per-stage split (caput → IOC → monitor apply → diff encode → client parse).
A second set per round leaves every client's 100 ms diff window idle: the pipeline alone. With
`--profile S` it records S seconds of the service with py-spy during the first round (collapsed
stacks, path printed).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from pathlib import Path
from subprocess import DEVNULL

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from squirrel.progress import Progress
from squirrel.tools.bench import load
from squirrel.tools.bench.harness import Bench, BenchConfig


async def run(bench: Bench, args: argparse.Namespace) -> None:
    await asyncio.to_thread(bench.start_iocs)
    await asyncio.to_thread(bench.start_postgres)
    await bench.main_service()
    assert bench.svc is not None
    n = len(bench.iocs.addresses) if bench.iocs else 0
    print(f"service pid {bench.svc.pid} (log {bench.svc.log_path}); {n} addresses connected")
    spy: asyncio.subprocess.Process | None = None
    if args.profile:
        out = bench.workdir.parent / f"sse-profile-{args.pvs}.txt"
        py_spy = str(Path(sys.executable).with_name("py-spy"))
        pid, seconds = str(bench.svc.pid), str(round(args.profile))
        cmd = [py_spy, "record", "-p", pid, "-d", seconds, "-r", "200", "-o", str(out), "-f", "raw", "--nonblocking"]
        with (bench.workdir.parent / "sse-py-spy.log").open("wb") as errors:
            spy = await asyncio.create_subprocess_exec(*cmd, stdout=DEVNULL, stderr=errors)
        print(f"py-spy → {out} (collapsed stacks)")
    ex = bench.results.extras
    for r in range(args.rounds):
        t0 = time.perf_counter()
        await load.sse_phase(bench)
        print(f"round {r + 1} ({time.perf_counter() - t0:.1f} s, offered {ex['sse_offered_updates_per_s']}/s)")
        for label, s in (("busy windows", ex.pop("sse_latency_ms")[-1]), ("idle windows", ex.pop("sse_pipeline_ms"))):
            stages = s.pop("stages", None) or ex.pop("sse_latency_stages_ms")[-1]
            print(f"  {label}: " + " ".join(f"{k}={v}" for k, v in s.items()) + " ms")
            for name, st in stages.items():
                print(f"    {name:17} " + " ".join(f"{k}={v}" for k, v in st.items()))
    if spy is not None:
        await asyncio.wait_for(spy.wait(), args.profile + 60)
    if "aioca" in sys.modules:  # close the probe's channels while the loop still runs
        sys.modules["aioca"].purge_channel_caches()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pvs", type=int, default=2000)
    parser.add_argument("--iocs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--load", type=float, default=10_000.0, help="offered updates/s during the probes")
    parser.add_argument("--profile", type=float, default=0.0, help="py-spy the service for this many seconds")
    args = parser.parse_args()
    cfg = BenchConfig(pvs=args.pvs, iocs=args.iocs, repeat=1, sse_clients=args.clients, sse_load=args.load)
    bench = Bench(cfg, Progress(1, "sse"))
    try:
        asyncio.run(run(bench, args))
    finally:
        bench.stop_all()
        shutil.rmtree(bench.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
