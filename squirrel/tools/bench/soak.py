"""`squirrel bench --soak MINUTES`: does the service's memory stay flat under steady use?

For MINUTES the service gets steady IOC updates (load blocks), SSE clients that stay subscribed, a
client polling live values every second and a snapshot every minute. Every SAMPLE_S (less in a short
run) the bench records the service's RSS and open file descriptors. The RSS slope (MB/hour) is a
least-squares line through the samples after the warm-up (the first 5 minutes: caches, pools and
allocator arenas settle there), or through the second half of a run under 10 minutes (fit_from_s).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import time
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import httpx
import psutil

from squirrel.progress import Progress
from squirrel.tools.bench import figures as fg
from squirrel.tools.bench import load

if TYPE_CHECKING:
    from squirrel.tools.bench.harness import Bench, BenchConfig

SAMPLE_S = 10.0
WARMUP_S = 300.0
SLOPE_GOAL_MB_PER_H = 5.0
SOAK_KEYS = ("soak_rss_slope_mb_per_h", "soak_fds_end")


def slope_per_hour(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, value) samples, in value units per hour (None: < 3 samples)."""
    if len(samples) < 3:
        return None
    n = len(samples)
    mt = sum(t for t, _ in samples) / n
    mv = sum(v for _, v in samples) / n
    var = sum((t - mt) ** 2 for t, _ in samples)
    if var == 0:
        return None
    return sum((t - mt) * (v - mv) for t, v in samples) / var * 3600.0


def fit_window(duration_s: float) -> float:
    """Where the fit starts: after the 5-minute warm-up, or halfway through a run under 10 minutes."""
    return WARMUP_S if duration_s >= 2 * WARMUP_S else duration_s / 2


class _Activity:
    """What the soak did, so the report shows the load was really there."""

    def __init__(self) -> None:
        self.polls = 0
        self.poll_errors = 0
        self.snapshots = 0
        self.snapshot_errors: list[str] = []
        self.sse_reopened = 0


async def _poll_live(client: httpx.AsyncClient, names: list[str], act: _Activity, until: float) -> None:
    params = {"pv_names": ",".join(names)}
    while time.monotonic() < until:
        try:
            resp = await client.get("/v1/pvs/live", params=params)
            if resp.status_code == 200:
                act.polls += 1
            else:
                act.poll_errors += 1
        except httpx.HTTPError:
            act.poll_errors += 1
        await asyncio.sleep(1.0)


async def _snapshots(client: httpx.AsyncClient, act: _Activity, until: float, timeout: float) -> None:
    k = 0
    while time.monotonic() + 60.0 <= until + 1.0:
        t0 = time.monotonic()
        try:
            await fg.take_snapshot(client, f"soak {k}", True, timeout)
            act.snapshots += 1
        except Exception as exc:
            act.snapshot_errors.append(str(exc)[:200])
        k += 1
        await asyncio.sleep(max(0.0, 60.0 - (time.monotonic() - t0)))


async def _sse_client(client: httpx.AsyncClient, names: list[str], act: _Activity, until: float) -> None:
    """One subscriber that stays open for the whole soak (reopened if the stream ends)."""
    while time.monotonic() < until:
        c = fg.SseClient(client, {"pvs": ",".join(names)}, probe="")
        with suppress(TimeoutError):
            await asyncio.wait_for(c.run(), max(0.1, until - time.monotonic()))
        if time.monotonic() < until:
            act.sse_reopened += 1
            await asyncio.sleep(1.0)


def _sample(pid: int) -> tuple[float, int]:
    proc = psutil.Process(pid)
    return proc.memory_info().rss / 1e6, proc.num_fds()


async def soak_phase(bench: Bench, minutes: float) -> None:
    """Drive steady use for `minutes`; record the RSS slope and descriptor counts in the results."""
    assert bench.iocs is not None and bench.svc is not None and bench.svc.pid is not None
    pid, duration = bench.svc.pid, minutes * 60.0
    readbacks = [rb for _, rb in bench.iocs.pairs]
    offered = await load.set_load(bench, bench.cfg.sse_load) if bench.iocs.load_blocks else bench.iocs.background_rate
    every = min(SAMPLE_S, duration / 30)  # a short run still gets enough samples to fit
    act, t0 = _Activity(), time.monotonic()
    until = t0 + duration
    samples: list[tuple[float, float, int]] = []
    merged: float | None = None
    try:
        async with bench.client() as client:
            tasks = [
                asyncio.create_task(_poll_live(client, readbacks[:100], act, until)),
                asyncio.create_task(_snapshots(client, act, until, 120 * bench.cfg.scale)),
            ]
            for i in range(bench.cfg.sse_clients):
                names = readbacks[(i * 50) % max(1, len(readbacks)) :][:50]
                tasks.append(asyncio.create_task(_sse_client(client, names, act, until)))
            try:
                while (now := time.monotonic()) < until:
                    rss, fds = await asyncio.to_thread(_sample, pid)
                    samples.append((now - t0, rss, fds))
                    await asyncio.sleep(min(every, max(0.0, until - time.monotonic())))
                rss, fds = await asyncio.to_thread(_sample, pid)
                samples.append((time.monotonic() - t0, rss, fds))
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            merged = (await fg.metrics(client)).get("squirrel_monitor_merged_total")
        if bench.iocs.load_blocks:
            await load.set_load(bench, 0)
    finally:  # also when interrupted: what was measured so far is reported, marked as such
        if samples:
            _summarize(bench, minutes, samples, act, offered, merged)


def _summarize(
    bench: Bench,
    minutes: float,
    samples: list[tuple[float, float, int]],
    act: _Activity,
    offered: float,
    merged: float | None,
) -> None:
    ran = samples[-1][0]
    start = fit_window(minutes * 60.0 if ran >= minutes * 60.0 - 1 else ran)
    slope = slope_per_hour([(t, rss) for t, rss, _ in samples if t >= start])
    fd_slope = slope_per_hour([(t, float(fds)) for t, _, fds in samples if t >= start])
    bench.results.add("soak_rss_slope_mb_per_h", slope)
    bench.results.add("soak_fds_end", float(samples[-1][2]))
    soak: dict[str, Any] = {
        "minutes": round(ran / 60.0, 2),
        "minutes_planned": round(minutes, 2),
        "interrupted": ran < minutes * 60.0 - 1,
        "fit_from_s": round(start, 1),
        "rss_slope_mb_per_h": None if slope is None else round(slope, 3),
        "rss_slope_goal_mb_per_h": SLOPE_GOAL_MB_PER_H,
        "rss_mb_start_end": [round(samples[0][1], 1), round(samples[-1][1], 1)],
        "rss_mb_max": round(max(s[1] for s in samples), 1),
        "fds_start_end_max": [samples[0][2], samples[-1][2], max(s[2] for s in samples)],
        "fds_slope_per_h": None if fd_slope is None else round(fd_slope, 2),
        "offered_updates_per_s": offered,
        "sse_clients": bench.cfg.sse_clients,
        "sse_reopened": act.sse_reopened,
        "live_polls": act.polls,
        "live_poll_errors": act.poll_errors,
        "snapshots": act.snapshots,
        "snapshot_errors": act.snapshot_errors[:5],
        "monitor_merged_total": merged,
        "samples_s_rss_mb_fds": [[round(t, 1), round(r, 1), f] for t, r, f in samples],
    }
    bench.results.extras["soak"] = soak


def soak_table(report: dict[str, Any]) -> str:
    """The soak's figures as text (the JSON holds every sample)."""
    s = report.get("extras", {}).get("soak")
    if not s:
        lines = ["soak: no figures"]
    else:
        slope = s["rss_slope_mb_per_h"]
        verdict = "n/a" if slope is None else ("PASS" if slope <= s["rss_slope_goal_mb_per_h"] else "FAIL")
        fds = s["fds_start_end_max"]
        lines = [
            f"soak: {s['minutes']} min, fit from {s['fit_from_s']:.0f} s",
            f"  RSS slope        {slope} MB/h (goal ≤ {s['rss_slope_goal_mb_per_h']}) {verdict}",
            f"  RSS start/end    {s['rss_mb_start_end'][0]} → {s['rss_mb_start_end'][1]} MB (max {s['rss_mb_max']})",
            f"  fds start/end    {fds[0]} → {fds[1]} (max {fds[2]}, slope {s['fds_slope_per_h']}/h)",
            f"  load             {s['offered_updates_per_s']:.0f} updates/s offered, {s['sse_clients']} SSE clients,"
            f" {s['live_polls']} live polls, {s['snapshots']} snapshots",
        ]
    for key, reason in report.get("errors", {}).items():
        if key in SOAK_KEYS or key == "*":
            lines.append(f"! {key}: {reason}")
    return "\n".join(lines)


async def _run_soak(bench: Bench, minutes: float) -> None:
    b = bench
    if not await b.infrastructure():
        return
    await b.phase("service + registry", ("*",), b.main_service)
    if b.svc is None:
        return
    await b.phase(f"soak {minutes:g} min", SOAK_KEYS, lambda: soak_phase(b, minutes))
    if "aioca" in sys.modules:
        sys.modules["aioca"].purge_channel_caches()


def run_soak(cfg: BenchConfig, minutes: float, progress: Progress | None = None) -> dict[str, Any]:
    """The soak alone (IOCs, PostgreSQL, the service, then `minutes` of steady use); returns its JSON."""
    from squirrel.tools.bench.harness import Bench

    progress = progress or Progress(5, "soak")
    bench = Bench(cfg, progress)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    try:
        asyncio.run(_run_soak(bench, minutes))
    finally:
        progress.set("stopping")
        bench.stop_all()
        progress.close()
        report = _report(bench, cfg, minutes, started)  # also when interrupted (extras.soak.interrupted)
    return report


def _report(bench: Bench, cfg: BenchConfig, minutes: float, started: str) -> dict[str, Any]:
    errors = dict(bench.results.errors)
    if "*" in errors:
        for key in SOAK_KEYS:
            errors.setdefault(key, errors["*"])
    medians = bench.results.medians()
    report: dict[str, Any] = {
        "config": {"pvs": cfg.pvs, "iocs": cfg.iocs, "ioc": cfg.ioc, "soak_minutes": minutes, "started": started},
        **{key: medians.get(key) for key in SOAK_KEYS},
        "errors": errors,
        "extras": bench.results.extras,
    }
    shutil.rmtree(bench.workdir / "data" / "postgres", ignore_errors=True)
    if cfg.json_path is not None:
        cfg.json_path.write_text(json.dumps(report, indent=2) + "\n")
    return report
