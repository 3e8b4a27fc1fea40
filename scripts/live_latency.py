"""Measure caput → SSE latency with N concurrent SSE clients against the real app and a caproto IOC.

    .venv/bin/python scripts/live_latency.py --clients 20 --samples 100

Starts embedded PostgreSQL, a caproto IOC subprocess (with a share of its PVs updating at 1-10 Hz as
background load), the app (roles api+monitor) under uvicorn in this process, registers the IOC's PVs,
opens N SSE streams selecting every registered address, then writes a new value to one setpoint every
`--period` seconds and records, per client, when the diff carrying that value arrives. Clients run in
this process too, so the figures include their parsing (a pessimistic setting on a small machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from squirrel.epics.sim import free_port, start_sim

PORT = free_port()
os.environ["EPICS_CA_ADDR_LIST"] = f"127.0.0.1:{PORT}"
os.environ["EPICS_CA_AUTO_ADDR_LIST"] = "NO"


async def main(args: argparse.Namespace, database_url: str) -> None:
    import httpx
    import psycopg

    from squirrel.epics.ca import write_many
    from squirrel.logsetup import configure_logging
    from tests.conftest import make_settings
    from tests.support.server import SseReader, run_server

    configure_logging("warning", json=False)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    sim = start_sim(args.pvs, 1, "LAT:", ports=[PORT], update_fraction=args.update_fraction, special=True)
    target = sim.special["double"]
    try:
        addresses = [a for p in sim.pvs for a in (p.setpoint, p.readback)] + [target]
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            for p in sim.pvs:
                await conn.execute(
                    "INSERT INTO pv (setpoint_address, readback_address) VALUES (%s, %s)", (p.setpoint, p.readback)
                )
            await conn.execute("INSERT INTO pv (setpoint_address) VALUES (%s)", (target,))
        settings = make_settings(database_url, roles=["api", "monitor"], db_pool_max=8)
        async with run_server(settings) as server:
            cache = server.ctx.cache
            t0 = time.monotonic()
            while sum(1 for s in cache if s.connected) < len(addresses):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            print(f"{len(addresses)} PVs connected in {time.monotonic() - t0:.2f} s")
            sent: dict[float, float] = {}
            latencies: list[float] = []
            bytes_in = [0]

            async def client(k: int, ready: asyncio.Event, started: list[int]) -> None:
                async with httpx.AsyncClient(base_url=server.url, headers=server.headers("read"), timeout=None) as c:
                    async with c.stream("GET", "/v1/live/events?all=true") as response:
                        reader = SseReader(response)
                        await reader.next()
                        started[0] += 1
                        if started[0] == args.clients:
                            ready.set()
                        while True:
                            ev = await reader.next(timeout=3600)
                            now = time.perf_counter()
                            bytes_in[0] += len(ev.data)
                            if ev.event != "diff":
                                continue
                            entry = json.loads(ev.data)["data"].get(target)
                            if entry is not None and entry["value"] in sent:
                                latencies.append(now - sent[entry["value"]])

            ready = asyncio.Event()
            started = [0]
            tasks = [asyncio.create_task(client(k, ready, started)) for k in range(args.clients)]
            await asyncio.wait_for(ready.wait(), 60)
            await asyncio.sleep(1.0)
            for i in range(args.samples):
                value = 1000.0 + i
                sent[value] = time.perf_counter()
                await write_many([(target, value)], timeout=5, wait=False)
                await asyncio.sleep(args.period)
            await asyncio.sleep(1.0)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            stats = server.ctx.broadcaster.stats("sse")
            expected = args.samples * args.clients
            lat = sorted(latencies)
            q = statistics.quantiles(lat, n=100)
            print(
                f"clients={args.clients} samples={args.samples} received={len(lat)}/{expected} "
                f"p50={q[49] * 1000:.1f} ms p95={q[94] * 1000:.1f} ms p99={q[98] * 1000:.1f} ms "
                f"max={lat[-1] * 1000:.1f} ms; cache updates={cache.total_updates} "
                f"sse bytes={bytes_in[0]} coalesced={stats['coalesced']} overflows={stats['overflows']}"
            )
    finally:
        sim.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--period", type=float, default=0.2, help="seconds between writes")
    parser.add_argument("--pvs", type=int, default=1000, help="IOC PVs registered (background updates)")
    parser.add_argument("--update-fraction", type=float, default=0.5)
    from tests.support.postgres import start_server

    databases = start_server()
    dbs = next(databases)
    url = dbs.create()
    try:
        asyncio.run(main(parser.parse_args(), url))
    finally:
        dbs.drop(url)
        databases.close()
