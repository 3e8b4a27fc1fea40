"""The overload figure: the service while the IOCs are asked for far more updates than it can apply.

The load blocks are enabled up to OVERLOAD_RATE offered updates/s (3x the ~50K/s the monitor applies
with half a core). Over the window the bench records the service's peak RSS, the p99 latency of
/readyz (does the service stay answerable?) and how many updates the monitor merged (a newer value
replaced a queued one: kept the newest, as it should). What the IOCs really produced is counted by
their tick records: on a shared 2-core box they may not reach the offered rate, and the extras say so.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from squirrel.tools.bench import figures as fg
from squirrel.tools.bench import load

if TYPE_CHECKING:
    from squirrel.tools.bench.harness import Bench

OVERLOAD_RATE = 150_000.0
OVERLOAD_KEYS = ("overload_rss_mb", "overload_readyz_p99_ms", "overload_merged")


async def overload_phase(bench: Bench, rate: float = OVERLOAD_RATE, window: float | None = None) -> None:
    assert bench.iocs is not None and bench.svc is not None
    window = window if window is not None else (5.0 if bench.cfg.pvs <= 5_000 else 20.0)
    if not bench.iocs.load_blocks:
        raise fg.BenchError("needs --ioc softioc (its load blocks drive a chosen update rate)")
    capacity = bench.iocs.background_rate + sum(b.rate for b in bench.iocs.load_blocks)
    extras = bench.results.extras
    async with bench.client() as client:
        m0 = await fg.metrics(client)
        offered = await load.set_load(bench, rate)
        try:
            await asyncio.sleep(2.0)  # the backlog builds up
            m1, p1, t1 = await fg.metrics(client), await load.produced(bench), time.perf_counter()
            latencies: list[float] = []
            rss_peak = 0
            while time.perf_counter() - t1 < window:
                t = time.perf_counter()
                resp = await client.get("/readyz")
                latencies.append((time.perf_counter() - t) * 1000.0)
                if resp.status_code not in (200, 503):
                    raise fg.BenchError(f"GET /readyz under overload: HTTP {resp.status_code}")
                rss_peak = max(rss_peak, bench.rss.current_bytes())
                await asyncio.sleep(0.1)
            m2, p2, t2 = await fg.metrics(client), await load.produced(bench), time.perf_counter()
        finally:
            await load.set_load(bench, 0)
        await load.drained(client, bench.iocs.background_rate)
    merged_key, applied_key = "squirrel_monitor_merged_total", "squirrel_pv_updates_total"
    if merged_key not in m2:
        raise fg.BenchError("/metrics has no squirrel_monitor_merged_total counter")
    dt = t2 - t1
    bench.results.add("overload_rss_mb", rss_peak / 1e6)
    bench.results.add("overload_readyz_p99_ms", fg.p99(latencies))
    bench.results.add("overload_merged", m2[merged_key] - m0.get(merged_key, 0.0))
    extras.setdefault("overload", []).append(
        {
            "offered_per_s": round(offered),
            "load_capacity_per_s": round(capacity),
            "produced_per_s": round((p2 - p1) / dt + bench.iocs.background_rate),
            "applied_per_s": round((m2[applied_key] - m1[applied_key]) / dt),
            "merged_per_s": round((m2[merged_key] - m1[merged_key]) / dt),
            "readyz": fg.summary(latencies),
            "window_s": round(dt, 1),
        }
    )
    if capacity < rate:
        extras["overload_note"] = f"the IOCs can offer only {capacity:.0f}/s at this --pvs (150K/s needs --pvs ≥ 34K)"
