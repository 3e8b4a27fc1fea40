"""`squirrel bench --protocol pva`: the PVA layer against raw p4p on the same PVs, in the same run.

The IOCs are C soft IOCs serving PVAccess (`python -m pvxslibs.ioc`: epicscorelibs' softIoc with PVXS
QSRV, from the pvxslibs wheel p4p already needs) with the CA bench database. Squirrel's side is
squirrel.pva itself (monitor into a PVCache, bulk read, bulk put with completion), in this process;
the raw baseline runs in a fresh process (cold context) with p4p.client.thread.Context: one monitor per
PV until each delivered a value, Context.get(list) cold then warm, Context.put(list, wait) of every
setpoint. Ingest drives the IOCs' load blocks and counts what the monitor applies per second.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from squirrel.tools.bench.softioc import IocSet, free_port, launch_iocs

INGEST_OFFERED = 40_000.0  # updates/s the IOCs are driven to for the ingest figure (target: 30K applied)
TARGETS = {
    "monitor_connect_all_s": "<= 0.8 x raw",
    "direct_read_s": "<= 0.3 x raw + 0.5 s",
    "restore_s": "<= 0.25 x raw + 0.5 s",
    "ingest_updates_per_s": ">= 30000",
}


def _pva_ports() -> tuple[dict[str, str], str]:
    """One QSRV IOC's PVA ports (its UDP search port is the addr_list entry) and a CA port of its own."""
    udp = free_port()
    env = {
        "EPICS_CA_SERVER_PORT": str(free_port()),
        "EPICS_CAS_INTF_ADDR_LIST": "127.0.0.1",
        "EPICS_CA_AUTO_ADDR_LIST": "NO",
        "EPICS_PVAS_SERVER_PORT": str(free_port()),
        "EPICS_PVAS_BROADCAST_PORT": str(udp),
        "EPICS_PVAS_INTF_ADDR_LIST": "127.0.0.1",
        "EPICS_PVAS_AUTO_BEACON_ADDR_LIST": "NO",
        "EPICS_PVAS_BEACON_ADDR_LIST": f"127.0.0.1:{udp}",
        "PVXS_QSRV_ENABLE": "YES",
    }
    return env, f"127.0.0.1:{udp}"


def start_pva_iocs(pvs: int, iocs: int, prefix: str = "PB:") -> tuple[IocSet, dict[str, str]]:
    """C soft IOCs with QSRV, each on its own loopback PVA ports; (IocSet, client EPICS_PVA_* env)."""
    result = launch_iocs(pvs, iocs, prefix, "pvxslibs.ioc", _pva_ports, max(60.0, pvs / 250))
    return result, {"EPICS_PVA_ADDR_LIST": result.addr_list, "EPICS_PVA_AUTO_ADDR_LIST": "NO"}


# --- Squirrel's side (squirrel.pva, in this process) ----------------------------------------------------
async def measure_squirrel(iocs: IocSet, settle: float) -> dict[str, Any]:
    from squirrel.pv import PVCache, PVState
    from squirrel.pva import bulk, client
    from squirrel.pva.monitor import PvaMonitor

    keys = [f"pva://{a}" for a in iocs.addresses]
    setpoints = [f"pva://{sp}" for sp in iocs.setpoints]
    timeout = 10.0 + len(keys) / 1000.0
    out: dict[str, Any] = {}
    client.context()  # p4p imported (~1 s here) before timing, as the raw process does before its clock
    client.close()  # ... and a fresh context: channel search and connection are timed, as for raw
    cache = PVCache()
    monitor = PvaMonitor(cache)
    await monitor.start()
    try:
        t0 = time.perf_counter()
        await monitor.sync(set(keys))
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            # The cache's connected count costs nothing; the walk for values only once all are connected
            # (walking 50K entries every 10 ms took CPU from the monitor being measured).
            if cache.counts()["connected"] >= len(keys) and all(
                (s := cache.get(k)) is not None and s.has_value for k in keys
            ):
                break
            await asyncio.sleep(0.01)
        out["monitor_connect_all_s"] = time.perf_counter() - t0
        out["monitor_missing"] = sum(1 for k in keys if not ((s := cache.get(k)) and s.has_value))

        t0 = time.perf_counter()
        states = await bulk.read_many(keys, timeout, lambda k: PVState(address=k))
        out["direct_read_s"] = time.perf_counter() - t0
        out["direct_read_failures"] = sum(1 for s in states.values() if not s.connected)

        items = [(sp, states[sp].value) for sp in setpoints if states[sp].connected]
        t0 = time.perf_counter()
        written = await bulk.write_many(items, timeout, wait=True)
        out["restore_s"] = time.perf_counter() - t0
        out["restore_failures"] = sum(1 for o, _ in written.values() if o != "written")

        out.update(await _ingest(iocs, monitor, timeout, settle))
    finally:
        await monitor.stop()
        client.close()
    return out


async def _ingest(iocs: IocSet, monitor: Any, timeout: float, settle: float) -> dict[str, Any]:
    """Drive load blocks up to INGEST_OFFERED updates/s; the monitor's applied updates/s against that."""
    from squirrel.pv import PVState
    from squirrel.pva import bulk

    offered = iocs.background_rate
    chosen = []
    for block in iocs.load_blocks:
        if offered >= INGEST_OFFERED:
            break
        chosen.append(block)
        offered += block.rate
    loads = [f"pva://{b.enable_pv}" for b in chosen]
    await bulk.read_many(loads, timeout, lambda k: PVState(address=k))  # learn their type (enum)
    await bulk.write_many([(k, 1) for k in loads], timeout)
    try:
        await asyncio.sleep(settle)
        c0, t0 = monitor.total_updates, time.perf_counter()
        await asyncio.sleep(5.0)
        rate = (monitor.total_updates - c0) / (time.perf_counter() - t0)
    finally:
        await bulk.write_many([(k, 0) for k in loads], timeout)
    return {"ingest_updates_per_s": rate, "ingest_offered_per_s": offered, "merged_updates": monitor.merged}


# --- raw p4p (a fresh process) --------------------------------------------------------------------------
def raw_baseline(addresses: list[str], setpoints: list[str]) -> dict[str, Any]:
    from p4p.client.thread import Context

    timeout = 10.0 + len(addresses) / 1000.0
    out: dict[str, Any] = {}
    with Context("pva") as ctxt:
        pending = set(addresses)
        lock, done = threading.Lock(), threading.Event()

        def first(name: str) -> Any:
            def cb(value: Any) -> None:
                with lock:
                    pending.discard(name)
                    if not pending:
                        done.set()

            return cb

        t0 = time.perf_counter()
        subs = [ctxt.monitor(a, first(a)) for a in addresses]
        done.wait(timeout)
        out["raw_monitor_connect_all_s"] = time.perf_counter() - t0
        out["raw_monitor_missing"] = len(pending)
        for sub in subs:
            sub.close()
    with Context("pva") as ctxt:
        t0 = time.perf_counter()
        values = ctxt.get(addresses, timeout=timeout, throw=False)
        out["raw_get_cold_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        values = ctxt.get(addresses, timeout=timeout, throw=False)
        out["raw_get_warm_s"] = time.perf_counter() - t0
        current = dict(zip(addresses, values, strict=True))
        pairs = [(sp, current[sp]) for sp in setpoints if not isinstance(current[sp], Exception)]
        t0 = time.perf_counter()
        ctxt.put([p for p, _ in pairs], [float(v) for _, v in pairs], timeout=timeout, throw=False, wait=True)
        out["raw_put_s"] = time.perf_counter() - t0
    return out


def run_raw(iocs: IocSet, env: dict[str, str], workdir: Path) -> dict[str, Any]:
    names = workdir / "addresses.txt"
    sps = workdir / "setpoints.txt"
    names.write_text("\n".join(iocs.addresses))
    sps.write_text("\n".join(iocs.setpoints))
    proc = subprocess.run(
        [sys.executable, "-m", "squirrel.tools.bench.pva_bench", "raw", str(names), str(sps)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def verdicts(sq: dict[str, Any], raw: dict[str, Any]) -> dict[str, bool | None]:
    def ok(value: Any, limit: Any) -> bool | None:
        return None if value is None or limit is None else bool(value <= limit)

    mon, get, put = raw.get("raw_monitor_connect_all_s"), raw.get("raw_get_warm_s"), raw.get("raw_put_s")
    return {
        "monitor_connect_all_s": ok(sq.get("monitor_connect_all_s"), mon * 0.8 if mon else None),
        "direct_read_s": ok(sq.get("direct_read_s"), get * 0.3 + 0.5 if get else None),
        "restore_s": ok(sq.get("restore_s"), put * 0.25 + 0.5 if put else None),
        "ingest_updates_per_s": None if "ingest_updates_per_s" not in sq else sq["ingest_updates_per_s"] >= 30_000,
    }


def run_pva_bench(pvs: int, iocs: int, json_path: Path | None) -> dict[str, Any]:
    ioc_set, env = start_pva_iocs(pvs, iocs)
    try:
        os.environ.update(env)
        assert ioc_set.workdir is not None
        raw = run_raw(ioc_set, env, ioc_set.workdir)
        squirrel = asyncio.run(measure_squirrel(ioc_set, settle=3.0))
    finally:
        ioc_set.stop()
    report = {"pvs": len(ioc_set.addresses), "iocs": iocs, "squirrel": squirrel, "raw": raw, "targets": TARGETS}
    report["pass"] = verdicts(squirrel, raw)
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=1))
    return report


def table(report: dict[str, Any]) -> str:
    sq, raw, verdict = report["squirrel"], report["raw"], report["pass"]
    rows = [
        ("monitor connect-all (s)", sq.get("monitor_connect_all_s"), raw.get("raw_monitor_connect_all_s")),
        ("direct read, warm raw (s)", sq.get("direct_read_s"), raw.get("raw_get_warm_s")),
        ("restore put+completion (s)", sq.get("restore_s"), raw.get("raw_put_s")),
        ("ingest applied (updates/s)", sq.get("ingest_updates_per_s"), sq.get("ingest_offered_per_s")),
    ]
    lines = [f"{'figure':30} {'squirrel':>12} {'raw/offered':>12}  target                 pass"]
    for (name, mine, theirs), (key, target) in zip(rows, TARGETS.items(), strict=True):
        digits = 0 if "updates" in name else 3
        cells = ["-" if v is None else f"{v:12.{digits}f}" for v in (mine, theirs)]
        lines.append(f"{name:30} {cells[0]:>12} {cells[1]:>12}  {target:22} {verdict.get(key)}")
    if "error" in raw:
        lines.append(f"raw baseline failed: {raw['error']}")
    return "\n".join(lines)


if __name__ == "__main__":
    mode, addr_file, sp_file = sys.argv[1:]
    result = raw_baseline(Path(addr_file).read_text().split(), Path(sp_file).read_text().split())
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)
