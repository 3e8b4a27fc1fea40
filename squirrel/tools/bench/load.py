"""Phases that drive load on the IOCs: monitor ingest (max_updates_per_s) and SSE latency under load."""

from __future__ import annotations

import asyncio
import random
import time
from contextlib import suppress
from typing import TYPE_CHECKING

import httpx

from squirrel.tools.bench import ca_driver
from squirrel.tools.bench import figures as fg
from squirrel.tools.bench.softioc import LoadBlock

if TYPE_CHECKING:
    from squirrel.tools.bench.harness import Bench


async def set_load(bench: Bench, rate: float) -> float:
    """Enable load blocks until the offered update rate reaches `rate`; returns the offered rate."""
    assert bench.iocs is not None
    offered, on, off = bench.iocs.background_rate, [], []
    for block in bench.iocs.load_blocks:
        if offered < rate:
            on.append(block)
            offered += block.rate
        else:
            off.append(block)
    await _put_blocks(bench, on, 1)
    await _put_blocks(bench, off, 0)
    bench.results.extras["load_capacity_per_s"] = bench.iocs.background_rate + sum(
        b.rate for b in bench.iocs.load_blocks
    )
    return offered


async def _put_blocks(bench: Bench, blocks: list[LoadBlock], value: int) -> None:
    if blocks:
        await ca_driver.put_all([b.enable_pv for b in blocks], [value] * len(blocks), "load control")


async def produced(bench: Bench) -> float:
    """Updates the IOCs produced so far: each load tick counts its ticks and reprocesses its block."""
    assert bench.iocs is not None
    blocks = bench.iocs.load_blocks
    ticks = await ca_driver.get_all([b.enable_pv.replace(":LOAD:", ":TICK:") for b in blocks], "tick counts")
    return float(sum(float(t) * b.size for t, b in zip(ticks, blocks, strict=True)))


async def drained(client: httpx.AsyncClient, background: float, timeout: float = 30.0) -> None:
    """Wait until the monitor has worked off a backlog from the last step (else the next one counts it)."""
    deadline = time.monotonic() + timeout
    last = (await fg.metrics(client)).get("squirrel_pv_updates_total", 0.0)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = (await fg.metrics(client)).get("squirrel_pv_updates_total", 0.0)
        if (now - last) / 0.5 <= 1.5 * background + 500:
            return
        last = now


async def ingest_phase(bench: Bench) -> None:
    """max_updates_per_s: offer growing update rates; keep the best step the monitor sustained."""
    assert bench.iocs is not None
    if not bench.iocs.load_blocks:
        raise fg.BenchError("needs --ioc softioc (its load blocks drive a chosen update rate)")
    capacity = bench.iocs.background_rate + sum(b.rate for b in bench.iocs.load_blocks)
    window = 2.0 if bench.cfg.pvs <= 5_000 else 4.0
    async with bench.client() as client:
        for _ in range(bench.cfg.repeat):
            best, steps = 0.0, []
            rates = [r for r in bench.cfg.ingest_rates if r < capacity] + [capacity]
            for rate in rates:
                offered = await set_load(bench, rate)
                step = await fg.ingest_step(client, window, bench.rss, lambda: produced(bench))
                step["delivered"] += bench.iocs.background_rate  # the 1 Hz share is not counted by ticks
                step["offered"] = offered
                steps.append({k: round(v, 3) for k, v in step.items()})
                flat = step["rss_mb_end"] - step["rss_mb_start"] <= max(20.0, 0.05 * step["rss_mb_start"])
                # Sustained = kept up with what the IOCs really produced, within one core, memory flat.
                if step["achieved"] < 0.9 * step["delivered"] or step["cpu"] > 1.0 or not flat:
                    break
                best = max(best, min(step["achieved"], step["delivered"]))
                if step["delivered"] < 0.8 * offered:
                    # The IOCs (sharing the CPU) cannot offer more: a higher step would measure them.
                    bench.results.extras["max_updates_per_s_note"] = (
                        f"IOC-bound: offered {offered:.0f}/s, the IOCs produced {step['delivered']:.0f}/s"
                    )
                    break
            await set_load(bench, 0)
            await drained(client, bench.iocs.background_rate)
            bench.results.extras.setdefault("ingest_steps", []).append(steps)
            if best == 0.0:
                raise fg.BenchError(f"no offered rate was sustained: {steps}")
            bench.results.add("max_updates_per_s", best)
            if best >= 0.9 * capacity:
                bench.results.extras["max_updates_per_s_note"] = (
                    f"bounded by the IOCs' load capacity ({capacity:.0f}/s at this --pvs), not by the monitor"
                )


async def sse_phase(bench: Bench) -> None:
    """sse_p99_latency_ms: caput a probe setpoint → its diff on each of N SSE clients, under load.

    Each client also selects 20 readbacks that change at 10 Hz, so its 100 ms diff window (API.md) is
    busy, as on a real panel. One more round without them (every window idle) gives the pipeline's own
    delay, `sse_pipeline_ms` in the extras. The pause between probes is random: a fixed one would lock
    the probe to one phase of the IOCs' 10 Hz scan (and so of the windows) and measure only that phase.
    """
    assert bench.iocs is not None
    await ca_driver.connect_all([bench.iocs.pairs[0][0]], "SSE probe")  # the first put must not pay for it
    offered = await set_load(bench, bench.cfg.sse_load) if bench.iocs.load_blocks else bench.iocs.background_rate
    bench.results.extras["sse_offered_updates_per_s"] = offered
    # The clients see each probe at nearly the same moment, so the samples' p99 lies within the worst
    # ~probes/100 probes: 100 probes make it a p99 of probes, 25 made it the worst of 25 (~p96).
    probes = 50 if bench.cfg.pvs <= 5_000 else 100
    extras = bench.results.extras
    async with bench.client() as client:
        for r in range(bench.cfg.repeat):
            latencies, stages = await _sse_round(bench, client, probes, others=20, seed=r)
            extras.setdefault("sse_samples", []).append(f"{len(latencies)}/{probes * bench.cfg.sse_clients}")
            bench.results.add("sse_p99_latency_ms", fg.p99(latencies))
            extras.setdefault("sse_latency_ms", []).append(fg.summary(latencies))
            extras.setdefault("sse_latency_stages_ms", []).append(fg.stage_summary(stages))
        latencies, stages = await _sse_round(bench, client, probes, others=0, seed=99)
        extras["sse_pipeline_ms"] = {**fg.summary(latencies), "stages": fg.stage_summary(stages)}
    if bench.iocs.load_blocks:
        await set_load(bench, 0)


async def _sse_round(
    bench: Bench, client: httpx.AsyncClient, probes: int, others: int, seed: int
) -> tuple[list[float], list[tuple[float, float, float, float]]]:
    """One round: N clients select the probe and `others` busy readbacks; returns latencies and stage marks."""
    from aioca import caput

    assert bench.iocs is not None
    probe = bench.iocs.pairs[0][0]
    readbacks = [rb for _, rb in bench.iocs.pairs[1:]]
    rng = random.Random(seed)
    clients = []
    for i in range(bench.cfg.sse_clients):
        extra = readbacks[(i * others) % max(1, len(readbacks)) :][:others]
        clients.append(fg.SseClient(client, {"pvs": ",".join([probe, *extra])}, probe))
    tasks = [asyncio.create_task(c.run()) for c in clients]
    try:
        await asyncio.wait_for(asyncio.gather(*(c.initial.wait() for c in clients)), 30)
        errors = [c.error for c in clients if c.error]
        if errors:
            raise fg.BenchError(errors[0])
        for k in range(probes):
            value = round(-40.0 + (k % 80) + 0.125 * (k % 7), 3)
            sent, wall = time.perf_counter(), time.time()
            for c in clients:
                c.expect(value, sent, wall)
            await caput(probe, value, wait=False)
            with suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(c.got.wait() for c in clients)), 2.0)
            await asyncio.sleep(rng.uniform(0.1, 0.25))
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies = [x for c in clients for x in c.latencies]
    expected = probes * len(clients)
    if len(latencies) < 0.9 * expected:
        raise fg.BenchError(f"only {len(latencies)} of {expected} probe diffs arrived within 2 s")
    return latencies, [x for c in clients for x in c.stages]
