"""Measure snapshot operations at scale over real HTTP + embedded PostgreSQL (values from the cache).

    .venv/bin/python scripts/bench_snapshots.py --pvs 50000 --snapshots 30

Prints one line per operation (median of --repeat runs): snapshot from cache (POST → job completed),
inline snapshot, GET full snapshot, compare snapshot↔snapshot, compare↔live, list, export JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import make_settings
from tests.support.postgres import start_server
from tests.support.server import run_server
from tests.support.snapshots import put_value

PROFILE: list[str] = []  # label substrings to profile (--profile)
ONLY: list[str] = []  # label substrings to measure (--only); all when empty


_gc_time = [0.0, 0.0]  # total seconds in collections, start of the current one
_gc_full = [0]  # full (generation 2) collections


def _gc_clock(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_time[1] = time.perf_counter()
    else:
        _gc_time[0] += time.perf_counter() - _gc_time[1]
        _gc_full[0] += info["generation"] == 2


async def _timed(label: str, repeat: int, fn: Any, results: dict[str, float]) -> Any:
    if ONLY and not any(o in label for o in ONLY):
        return await fn()  # not measured, but later steps may need its result
    times, out = [], None
    gc_before, full_before = _gc_time[0], _gc_full[0]
    cpu: list[float] = []  # this process (service + client): steadier than wall time on a shared machine
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = await fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    gc_ms = (_gc_time[0] - gc_before) * 1000 / repeat
    full = (_gc_full[0] - full_before) / repeat
    if any(p in label for p in PROFILE):
        from pyinstrument import Profiler  # optional: pip install pyinstrument

        with Profiler(interval=0.0005, async_mode="disabled") as profiler:
            await fn()
        show_all = bool(os.environ.get("PROFILE_ALL"))
        print(profiler.output_text(color=False, show_all=show_all, short_mode=False), flush=True)
    results[label] = statistics.median(times)
    extra = f"cpu {statistics.median(cpu) * 1000:.0f}, gc {gc_ms:.0f} ms, {full:.1f} full"
    print(f"{label:<42} {results[label] * 1000:9.1f} ms   (min {min(times) * 1000:.1f}, {extra})", flush=True)
    return out


async def main(uri: str, n: int, snapshots: int, repeat: int) -> None:
    results: dict[str, float] = {}
    settings = make_settings(uri, roles=["api", "worker"], db_pool_max=8)
    async with run_server(settings) as server, server.client("admin", timeout=120) as client:
        body = [{"setpointAddress": f"B:{i:06d}:SP", "readbackAddress": f"B:{i:06d}:RB"} for i in range(n)]
        t0 = time.perf_counter()
        r = await client.post("/v1/pvs/multi", json=body)
        assert r.status_code == 201, r.text[:500]
        print(f"registered {n:,} PVs in {time.perf_counter() - t0:.1f} s", flush=True)
        cache = server.ctx.cache
        for i in range(n):
            value = math.nan if i % 1000 == 0 else float(i)
            put_value(cache, f"B:{i:06d}:SP", value, units="mm", precision=3)
            put_value(cache, f"B:{i:06d}:RB", value, units="mm", precision=3)

        async def via_job() -> str:
            r = await client.post("/v1/snapshots", json={"title": "bench"})
            job_id = r.json()["jobId"]
            while True:
                job = (await client.get(f"/v1/jobs/{job_id}")).json()
                if job["status"] in ("completed", "failed", "cancelled"):
                    assert job["status"] == "completed", job
                    return str(job["resultId"])
                await asyncio.sleep(0.01)  # as squirrel bench polls

        async def inline() -> str:
            r = await client.post("/v1/snapshots?async=false", json={"title": "bench-inline"})
            assert r.status_code == 201, r.text
            return str(r.json()["id"])

        first = await _timed(f"snapshot from cache, job ({n:,} PVs)", repeat, via_job, results)
        await _timed(f"snapshot from cache, inline ({n:,} PVs)", repeat, inline, results)
        for i in range(0, n, 7):
            put_value(cache, f"B:{i:06d}:SP", float(i) + 0.5)
        second = await inline()
        while len((await client.get("/v1/snapshots?limit=1000")).json()) < snapshots:
            await inline()

        async def get_full() -> None:
            r = await client.get(f"/v1/snapshots/{first}")
            assert r.status_code == 200 and len(r.content) > n * 100

        async def compare() -> None:
            r = await client.get(f"/v1/snapshots/{first}/compare/{second}")
            assert r.status_code == 200 and r.json()["differenceCount"] > 0

        async def compare_live() -> None:
            r = await client.get(f"/v1/snapshots/{first}/compare/live")
            assert r.status_code == 200

        async def listing() -> None:
            r = await client.get("/v1/snapshots?limit=100")
            assert r.status_code == 200 and len(r.json()) >= snapshots

        async def export() -> None:
            r = await client.get(f"/v1/snapshots/{first}/export?format=json")
            assert r.status_code == 200

        await _timed(f"GET full snapshot ({n:,} values)", repeat, get_full, results)
        await _timed(f"compare 2 x {n:,}", repeat, compare, results)
        await _timed(f"compare with live ({n:,})", repeat, compare_live, results)
        await _timed(f"list ({snapshots} snapshots of {n:,})", repeat, listing, results)
        await _timed(f"export JSON ({n:,})", repeat, export, results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pvs", type=int, default=50_000)
    parser.add_argument("--snapshots", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="append", default=[], help="profile operations whose label has this")
    parser.add_argument("--only", action="append", default=[], help="measure only operations whose label has this")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    PROFILE.extend(args.profile)
    ONLY.extend(args.only)
    gc.callbacks.append(_gc_clock)
    gen = start_server()  # embedded PostgreSQL, stopped when the generator finishes
    dbs = next(gen)
    uri = dbs.create()
    try:
        asyncio.run(main(uri, args.pvs, args.snapshots, args.repeat))
    finally:
        dbs.drop(uri)
        for _ in gen:
            pass
