"""Channel Access figures of squirrel.epics against running soft IOCs, with raw aioca baselines.

    .venv/bin/python -m squirrel.tools.bench.softioc --pvs 50000 --iocs 4   # prints EPICS_CA_ADDR_LIST=...
    .venv/bin/python scripts/bench_ca.py --addr-list "127.0.0.1:p1 ..." [--pvs 50000] [--iocs 4]
        [--modes raw,monitor,direct,ingest] [--repeat 3]

Every measurement runs in a fresh process (its own cold CA context), one after the other:
  raw      raw_camonitor_all_s, raw_caget_cold_s, raw_caget_warm_s, raw_caput_s (squirrel.tools.bench.baselines)
  monitor  Monitor.sync(all) → every address connected with a value (monitor_connect_all_s), the longest
           loop stall meanwhile; then, with the monitor running (as in the service), read_many of all
           (snapshot_direct_s) and write_many of all setpoints with completion (write_many_s)
  direct   read_many cold and warm without a monitor
  ingest   monitor + growing offered update rates: applied updates/s, process CPU share, RSS
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from squirrel.tools.bench.softioc import LoadBlock, generate_db, split


def layout(pvs: int, iocs: int) -> tuple[list[tuple[str, str]], list[LoadBlock], float]:
    pairs: list[tuple[str, str]] = []
    blocks: list[LoadBlock] = []
    background = 0.0
    for k, (first, count) in enumerate(split(pvs, iocs)):
        _, p, b, bg = generate_db(f"BENCH:I{k}:", first, count)
        pairs += p
        blocks += b
        background += bg
    return pairs, blocks, background


class StallMeter:
    """The longest gap between 5 ms ticks of the loop (how long the loop could not answer)."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.big: list[tuple[float, float]] = []  # (since start, gap) of gaps over 50 ms
        self.task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        last = t0 = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gap = now - last - 0.005
            self.worst = max(self.worst, gap)
            if gap > 0.05:
                self.big.append((round(last - t0, 3), round(gap, 3)))
            last = now

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    def stop(self) -> float:
        assert self.task is not None
        self.task.cancel()
        return self.worst


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def start_monitor(addresses: list[str]) -> tuple[Any, dict[str, float]]:
    from squirrel.epics.breaker import BreakerSet
    from squirrel.epics.cache import PVCache
    from squirrel.epics.monitor import Monitor

    cache = PVCache()
    monitor = Monitor(cache, BreakerSet())
    stall = StallMeter()
    stall.start()
    t0 = time.perf_counter()
    c0 = cpu_s()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    await monitor.start()
    await monitor.sync(set(addresses))
    sync_s = time.perf_counter() - t0
    entries = [cache.get(a) for a in addresses]
    while True:
        if all(s is not None and s.connected and s.has_value and s.units is not None for s in entries[-1:]):
            if all(s is not None and s.connected and s.has_value for s in entries):
                break
        await asyncio.sleep(0.01)
    out = {
        "monitor_connect_all_s": time.perf_counter() - t0,
        "monitor_sync_s": sync_s,
        "monitor_connect_cpu_s": cpu_s() - c0,
        "monitor_connect_sys_s": resource.getrusage(resource.RUSAGE_SELF).ru_stime - r0.ru_stime,
        "monitor_connect_ctxsw": resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw - r0.ru_nvcsw,
        "monitor_stall_s": stall.stop(),
        "stalls": stall.big,
    }
    return monitor, out


async def child_monitor(pairs: list[tuple[str, str]], repeat: int) -> dict[str, Any]:
    from squirrel.epics.ca import read_many, write_many

    addresses = [a for p in pairs for a in p]
    setpoints = [sp for sp, _ in pairs]
    monitor, out = await start_monitor(addresses)
    reads, writes = [], []
    for _ in range(repeat):
        stall = StallMeter()
        stall.start()
        t0 = time.perf_counter()
        states = await read_many(addresses, 60.0)
        reads.append(time.perf_counter() - t0)
        out["read_stall_s"] = max(out.get("read_stall_s", 0.0), stall.stop())
        bad = sum(1 for s in states.values() if not s.connected or s.units is None)
        out["read_failures"] = bad
    current = {sp: states[sp].value for sp in setpoints}
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = await write_many(list(current.items()), 60.0, wait=True)
        writes.append(time.perf_counter() - t0)
        out["write_failures"] = sum(1 for r in res.values() if r.outcome != "written")
    out["snapshot_direct_s"] = reads
    out["write_many_s"] = writes
    await monitor.stop()
    return out


async def child_direct(pairs: list[tuple[str, str]], repeat: int) -> dict[str, Any]:
    from squirrel.epics.ca import read_many

    addresses = [a for p in pairs for a in p]
    t0 = time.perf_counter()
    states = await read_many(addresses, 60.0)
    out: dict[str, Any] = {"direct_cold_s": time.perf_counter() - t0}
    out["cold_failures"] = sum(1 for s in states.values() if not s.connected)
    warm = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        await read_many(addresses, 60.0)
        warm.append(time.perf_counter() - t0)
    out["direct_warm_s"] = warm
    return out


async def child_ingest(
    pairs: list[tuple[str, str]], blocks: list[LoadBlock], background: float, rates: list[float], window: float
) -> dict[str, Any]:
    from squirrel.epics.ca import read_many, write_many

    addresses = [a for p in pairs for a in p]
    monitor, out = await start_monitor(addresses)
    cache = monitor.cache
    ticks = [b.enable_pv.replace(":LOAD:", ":TICK:") for b in blocks]

    async def produced() -> float:
        states = await read_many(ticks, 10.0, ctrl=False)
        return sum(float(states[t].value) * b.size for t, b in zip(ticks, blocks, strict=True))

    steps = []
    for rate in rates:
        offered, on = background, []
        for b in blocks:
            if offered < rate:
                on.append(b)
                offered += b.rate
        await write_many([(b.enable_pv, 1 if b in on else 0) for b in blocks], 10.0)
        await asyncio.sleep(1.5)
        u0, p0, c0, r0, t0 = cache.total_updates, await produced(), cpu_s(), rss_mb(), time.perf_counter()
        await asyncio.sleep(window)
        u1, p1, c1, r1, t1 = cache.total_updates, await produced(), cpu_s(), rss_mb(), time.perf_counter()
        dt = t1 - t0
        steps.append(
            {
                "offered": round(offered),
                "delivered": round((p1 - p0) / dt + background),
                "applied": round((u1 - u0) / dt),
                "cpu": round((c1 - c0) / dt, 3),
                "rss_mb": [round(r0, 1), round(r1, 1)],
                "backlog": len(monitor._queue),
            }
        )
        print(json.dumps(steps[-1]), file=sys.stderr, flush=True)
    await write_many([(b.enable_pv, 0) for b in blocks], 10.0)
    out["ingest_steps"] = steps
    await monitor.stop()
    return out


def child(args: argparse.Namespace) -> None:
    os.environ["EPICS_CA_ADDR_LIST"] = args.addr_list
    os.environ["EPICS_CA_AUTO_ADDR_LIST"] = "NO"
    pairs, blocks, background = layout(args.pvs, args.iocs)

    async def run() -> dict[str, Any]:
        from aioca import purge_channel_caches

        try:
            if args.child == "monitor":
                return await child_monitor(pairs, 2)
            if args.child == "connect":
                monitor, out = await start_monitor([a for p in pairs for a in p])
                await monitor.stop()
                return out
            if args.child == "direct":
                return await child_direct(pairs, args.repeat)
            rates = [float(r) for r in args.rates.split(",")]
            return await child_ingest(pairs, blocks, background, rates, args.window)
        finally:
            purge_channel_caches()

    if args.profile:
        import pyinstrument

        with pyinstrument.Profiler(async_mode="disabled") as prof:
            result = asyncio.run(run())
        Path(args.profile).write_text(prof.output_text(unicode=False, show_all=False))
    else:
        result = asyncio.run(run())
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)  # libca threads may still call back into the closed loop


def spawn(argv: list[str], env_extra: dict[str, str]) -> dict[str, Any]:
    env = dict(os.environ, **env_extra)
    proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--addr-list", required=True)
    parser.add_argument("--pvs", type=int, default=50_000)
    parser.add_argument("--iocs", type=int, default=4)
    parser.add_argument("--modes", default="raw,monitor")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rates", default="10000,20000,30000,40000,50000")
    parser.add_argument("--window", type=float, default=4.0)
    parser.add_argument("--profile", default="")
    parser.add_argument("--child", default="")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    env = {"EPICS_CA_ADDR_LIST": args.addr_list, "EPICS_CA_AUTO_ADDR_LIST": "NO"}
    base = ["--addr-list", args.addr_list, "--pvs", str(args.pvs), "--iocs", str(args.iocs)]
    base += ["--repeat", str(args.repeat), "--rates", args.rates, "--window", str(args.window)]
    if args.profile:
        base += ["--profile", args.profile]
    pairs, _, _ = layout(args.pvs, args.iocs)
    out: dict[str, Any] = {"pvs": args.pvs, "load_before": os.getloadavg()[0]}
    runs: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        addr_file, sp_file = Path(tmp) / "addresses", Path(tmp) / "setpoints"
        addr_file.write_text("\n".join(a for p in pairs for a in p))
        sp_file.write_text("\n".join(sp for sp, _ in pairs))
        for mode in args.modes.split(","):
            reps = args.repeat if mode in ("raw", "monitor") else 1
            for _ in range(reps):
                if mode == "raw":
                    got = spawn(["-m", "squirrel.tools.bench.baselines", "monitor", str(addr_file), str(sp_file)], env)
                    got |= spawn(["-m", "squirrel.tools.bench.baselines", "getput", str(addr_file), str(sp_file)], env)
                else:
                    got = spawn([__file__, *base, "--child", mode], env)
                for k, v in got.items():
                    for x in v if isinstance(v, list) and v and isinstance(v[0], float) else [v]:
                        if isinstance(x, float):
                            runs.setdefault(k, []).append(x)
                        else:
                            out.setdefault(k, x)
    for k, xs in runs.items():
        out[k] = {"median": round(statistics.median(xs), 3), "min": round(min(xs), 3), "max": round(max(xs), 3)}
    med = {k: v["median"] for k, v in out.items() if isinstance(v, dict) and "median" in v}
    if "raw_camonitor_all_s" in med and "monitor_connect_all_s" in med:
        out["monitor_ratio"] = round(med["monitor_connect_all_s"] / med["raw_camonitor_all_s"], 3)
    if "raw_caget_warm_s" in med and "snapshot_direct_s" in med:
        out["direct_target_s"] = round(0.3 * med["raw_caget_warm_s"] + 0.5, 3)
    if "raw_caput_s" in med and "write_many_s" in med:
        out["restore_target_s"] = round(0.25 * med["raw_caput_s"] + 0.5, 3)
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
