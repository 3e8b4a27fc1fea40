"""One function per bench figure, each driving the running service over its HTTP API (API.md)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx

from squirrel.client import EventParser
from squirrel.tools.bench.service import parse_metrics

SUMMARY_EVERY = 0.2  # s between /v1/health/summary calls while waiting for every PV


class BenchError(Exception):
    """A figure could not be measured; the message says why (it lands in the JSON's "errors")."""


def check(resp: httpx.Response, what: str, ok: tuple[int, ...] = (200, 201, 202)) -> Any:
    if resp.status_code not in ok:
        detail = resp.text[:300].replace("\n", " ")
        raise BenchError(f"{what}: HTTP {resp.status_code} {detail}")
    return resp.json() if resp.content else None


async def metrics(client: httpx.AsyncClient) -> dict[str, float]:
    resp = await client.get("/metrics")
    if resp.status_code != 200:
        raise BenchError(f"GET /metrics: HTTP {resp.status_code}")
    return parse_metrics(resp.text)


# --- registry ---------------------------------------------------------------------------------
def pv_body(pairs: list[tuple[str, str]], prefix: str = "", tags: list[str] | None = None) -> list[dict[str, Any]]:
    return [
        {
            "setpointAddress": prefix + sp,
            "readbackAddress": prefix + rb,
            "device": prefix + sp.rsplit(":", 1)[0],
            "description": f"bench pair {i}",
            **({"tags": tags} if tags else {}),
        }
        for i, (sp, rb) in enumerate(pairs)
    ]


async def register_multi(client: httpx.AsyncClient, body: list[dict[str, Any]]) -> tuple[float, list[str]]:
    """One POST /v1/pvs/multi; returns (seconds, created ids)."""
    payload = json.dumps(body).encode()
    t0 = time.perf_counter()
    resp = await client.post("/v1/pvs/multi", content=payload, headers={"content-type": "application/json"})
    elapsed = time.perf_counter() - t0
    created = check(resp, "POST /v1/pvs/multi")
    return elapsed, [str(pv["id"]) for pv in created or []]


async def wait_connected(client: httpx.AsyncClient, expected: int, timeout: float, since: float) -> tuple[float, float]:
    """Until `expected` addresses are connected with a value: (seconds from `since` (perf_counter), epoch then)."""
    deadline = time.monotonic() + timeout
    seen_metric = False
    last = 0.0
    asked = 0.0
    while time.monotonic() < deadline:
        try:
            m = await metrics(client)
        except (BenchError, httpx.HTTPError):
            m = {}
        if "squirrel_pvs_connected" in m:
            seen_metric = True
            last = m["squirrel_pvs_connected"]
            # The cheap gauge first; then "with a value": /v1/health/summary counts connected-without-value
            # as stale. It walks the whole cache, so it is asked only once the gauge is complete and then at
            # most every SUMMARY_EVERY s: the bench's own polling must not grow with the registry's square.
            if last >= expected and time.monotonic() - asked >= SUMMARY_EVERY:
                asked = time.monotonic()
                if await _no_stale(client):
                    return time.perf_counter() - since, time.time()
        elif time.monotonic() > deadline - timeout + 15 and not seen_metric:
            raise BenchError("/metrics has no squirrel_pvs_connected gauge (is the monitor role running?)")
        await asyncio.sleep(0.05)
    raise BenchError(f"only {last:.0f} of {expected} addresses connected after {timeout:.0f} s")


async def monitor_started_at(client: httpx.AsyncClient) -> float | None:
    """The monitor's own start instant (epoch s) from /v1/health/monitor, when the service reports it."""
    resp = await client.get("/v1/health/monitor")
    value = resp.json().get("started_at") if resp.status_code == 200 else None
    return float(value) if isinstance(value, int | float) else None


async def _no_stale(client: httpx.AsyncClient) -> bool:
    resp = await client.get("/v1/health/summary")
    if resp.status_code != 200:
        return True  # no summary endpoint: the connected gauge is all we can check
    return int(resp.json().get("stale", 0)) == 0


# --- jobs and snapshots -----------------------------------------------------------------------
async def wait_ended(client: httpx.AsyncClient, job_id: str, timeout: float) -> dict[str, Any]:
    """The job once it ended, whatever its status: followed on its event stream, as squirrel's clients
    do. Polling GET /v1/jobs/{id} every 10 ms (before) cost the service CPU that the job itself needed."""
    parser = EventParser()
    try:
        async with asyncio.timeout(timeout):
            async with client.stream("GET", f"/v1/jobs/{job_id}/events") as resp:
                if resp.status_code != 200:
                    await resp.aread()
                    check(resp, "GET /v1/jobs/{id}/events", ok=(200,))
                async for line in resp.aiter_lines():
                    event = parser.feed(line)
                    if event is not None and event.event == "done":
                        job: dict[str, Any] = json.loads(event.data)
                        return job
    except TimeoutError:
        raise BenchError(f"job {job_id} did not finish within {timeout:.0f} s") from None
    raise BenchError(f"job {job_id}: its event stream ended without a done event")


async def wait_job(client: httpx.AsyncClient, job_id: str, timeout: float) -> dict[str, Any]:
    """The job once it completed; BenchError when it ended otherwise."""
    job = await wait_ended(client, job_id, timeout)
    if job["status"] != "completed":
        raise BenchError(f"job {job_id} ended {job['status']}: {job.get('error') or job.get('message')}")
    return job


def job_times(job: dict[str, Any], elapsed: float) -> dict[str, float]:
    """Where a job's end-to-end seconds went: waiting in the queue, running, and the rest (HTTP, polling)."""
    stamps = [job.get(k) for k in ("createdAt", "startedAt", "completedAt")]
    if not all(isinstance(s, str) for s in stamps):
        return {"end_to_end_s": round(elapsed, 3)}
    created, started, completed = (datetime.fromisoformat(str(s)).timestamp() for s in stamps)
    queued, ran = started - created, completed - started
    return {
        "queued_s": round(queued, 3),
        "run_s": round(ran, 3),
        "http_and_polling_s": round(elapsed - queued - ran, 3),
        "end_to_end_s": round(elapsed, 3),
    }


async def take_snapshot(
    client: httpx.AsyncClient, title: str, use_cache: bool, timeout: float, times: list[dict[str, float]] | None = None
) -> tuple[float, str]:
    """POST /v1/snapshots (async) → job completed; returns (seconds, snapshot id); `times` gets job_times."""
    params = {"async": "true", "use_cache": "true" if use_cache else "false"}
    t0 = time.perf_counter()
    resp = await client.post("/v1/snapshots", params=params, json={"title": title, "description": "squirrel bench"})
    body = check(resp, "POST /v1/snapshots")
    if resp.status_code == 201:  # answered synchronously
        elapsed = time.perf_counter() - t0
        _complete(body, "snapshot")
        return elapsed, str(body["id"])
    job = await wait_job(client, str(body["jobId"]), timeout)
    elapsed = time.perf_counter() - t0
    if times is not None:
        times.append(job_times(job, elapsed))
    if not job.get("resultId"):
        raise BenchError(f"snapshot job {body['jobId']} completed without a resultId")
    _complete(job.get("result") or {}, f"snapshot job {body['jobId']}")
    return elapsed, str(job["resultId"])


def _complete(summary: dict[str, Any], what: str) -> None:
    """Every bench PV is served: a snapshot that saved one without a value measured less than all of them."""
    missing = summary.get("missingCount")
    if missing:
        raise BenchError(
            f"{what} saved {missing:,} of {summary.get('pvCount', 0):,} PVs without a value "
            f"({summary.get('missing')}): no figure"
        )


async def restore(
    client: httpx.AsyncClient, snapshot_id: str, timeout: float, times: list[dict[str, float]] | None = None
) -> tuple[float, dict[str, Any]]:
    """Restore every PV of a snapshot, with completion, no verify, no backup; returns (seconds, result);
    `times` gets job_times."""
    body = {"verify": False, "backup": False, "skipEqual": False}
    t0 = time.perf_counter()
    resp = await client.post(f"/v1/snapshots/{snapshot_id}/restore", json=body)
    queued = check(resp, "POST /v1/snapshots/{id}/restore")
    job = await wait_ended(client, str(queued["jobId"]), timeout)
    elapsed = time.perf_counter() - t0
    if times is not None:
        times.append(job_times(job, elapsed))
    result: dict[str, Any] = job.get("result") or {}
    if job["status"] != "completed":
        # A restore that did not restore every PV ends `failed` with its counts: no figure, but say why.
        raise BenchError(f"restore job {job['id']} ended {job['status']} after {elapsed:.2f} s: {_why(job, result)}")
    return elapsed, result


def _why(job: dict[str, Any], result: dict[str, Any]) -> str:
    failing = [i for i in result.get("items") or [] if i.get("error")][:3]
    first = "; ".join(f"{i.get('pvName')}: {i.get('outcome')} ({i.get('error')})" for i in failing)
    return f"{job.get('error') or job.get('message')}" + (f"; first: {first}" if first else "")


async def timed_get(client: httpx.AsyncClient, url: str, what: str, **params: Any) -> tuple[float, bytes]:
    """Seconds for one GET until the whole body arrived."""
    t0 = time.perf_counter()
    resp = await client.get(url, params=params or None)
    elapsed = time.perf_counter() - t0
    check(resp, what, ok=(200,))
    return elapsed, resp.content


async def snapshot_count(client: httpx.AsyncClient) -> int:
    resp = await client.get("/v1/snapshots", params={"limit": 1000})
    body = check(resp, "GET /v1/snapshots", ok=(200,))
    if isinstance(body, dict):
        items = body.get("results") or body.get("items") or body.get("snapshots") or []
        total = body.get("totalCount") or body.get("total")
        return int(total) if total is not None else len(items)
    return len(body)


# --- monitor ingest ---------------------------------------------------------------------------
async def ingest_step(
    client: httpx.AsyncClient,
    window: float,
    rss: Any,
    produced: Callable[[], Awaitable[float]],
    settle: float = 1.0,
) -> dict[str, float]:
    """Over one window at the current load: updates/s the IOCs produced and the monitor applied, CPU, RSS."""
    await asyncio.sleep(settle)
    m0 = await metrics(client)
    if "squirrel_pv_updates_total" not in m0:
        raise BenchError("/metrics has no squirrel_pv_updates_total counter")
    p0 = await produced()
    t0, cpu0, rss0 = time.perf_counter(), rss.cpu_seconds(), rss.current_bytes()
    await asyncio.sleep(window)
    m1 = await metrics(client)
    p1 = await produced()
    t1, cpu1, rss1 = time.perf_counter(), rss.cpu_seconds(), rss.current_bytes()
    dt = t1 - t0
    return {
        "achieved": (m1["squirrel_pv_updates_total"] - m0["squirrel_pv_updates_total"]) / dt,
        "delivered": (p1 - p0) / dt,
        "cpu": (cpu1 - cpu0) / dt,
        "rss_mb_start": rss0 / 1e6,
        "rss_mb_end": rss1 / 1e6,
    }


# --- SSE latency ------------------------------------------------------------------------------
class SseClient:
    """Reads one SSE stream and records when `probe` shows a value the bench is waiting for."""

    def __init__(self, client: httpx.AsyncClient, params: dict[str, str], probe: str) -> None:
        self.client = client
        self.params = params
        self.probe = probe
        self.initial = asyncio.Event()
        self.expected: float | None = None
        self.sent_at = 0.0
        self.sent_wall = 0.0
        self.latencies: list[float] = []
        # Per sample, ms from the caput (wall clock: every process on this host shares it) to: the IOC's
        # record timestamp, the monitor's apply (entry updated_at), the diff's encode (payload timestamp),
        # and the client's parse. Differences between them locate the delay.
        self.stages: list[tuple[float, float, float, float]] = []
        self.got = asyncio.Event()
        self.error: str | None = None

    def expect(self, value: float, sent_at: float, sent_wall: float = 0.0) -> None:
        self.expected, self.sent_at, self.sent_wall = value, sent_at, sent_wall
        self.got.clear()

    async def run(self) -> None:
        try:
            async with self.client.stream("GET", "/v1/live/events", params=self.params, timeout=None) as resp:
                if resp.status_code != 200:
                    raise BenchError(f"GET /v1/live/events: HTTP {resp.status_code}")
                event, data = "", ""
                async for line in resp.aiter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data += line[5:].strip()
                    elif not line:
                        if data:
                            self._on_event(event, data)
                        event, data = "", ""
        except (httpx.HTTPError, BenchError) as exc:
            self.error = str(exc) or type(exc).__name__
            self.initial.set()

    def _on_event(self, event: str, data: str) -> None:
        now, wall = time.perf_counter(), time.time()
        if event == "initial":
            self.initial.set()
            return
        if event != "diff" or self.expected is None or self.probe not in data:
            return
        payload = json.loads(data)
        entry = payload.get("data", {}).get(self.probe)
        value = entry.get("value") if isinstance(entry, dict) else None
        if isinstance(value, int | float) and abs(value - self.expected) < 1e-6:
            self.latencies.append((now - self.sent_at) * 1000.0)
            if self.sent_wall:
                marks = (entry.get("timestamp"), entry.get("updated_at"), payload.get("timestamp"), wall)
                if all(isinstance(m, int | float) for m in marks):
                    ioc, applied, encoded, parsed = ((float(m) - self.sent_wall) * 1000.0 for m in marks)
                    self.stages.append((ioc, applied, encoded, parsed))
            self.expected = None
            self.got.set()


def p99(values: list[float]) -> float:
    return quantile(sorted(values), 0.99)


def quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def stage_summary(stages: list[tuple[float, float, float, float]]) -> dict[str, dict[str, float]]:
    """Where the caput → event time goes: p50/p95/p99/max of each step between the stage marks."""
    names = ("caput_to_ioc", "ioc_to_cache", "cache_to_encode", "encode_to_client")
    out: dict[str, dict[str, float]] = {}
    for k, name in enumerate(names):
        out[name] = summary([s[k] - (s[k - 1] if k else 0.0) for s in stages]) if stages else {}
    return out


def summary(values: list[float]) -> dict[str, float]:
    """p50/p95/p99/max of latency samples, rounded for the report."""
    ordered = sorted(values)
    out = {f"p{round(q * 100)}": quantile(ordered, q) for q in (0.5, 0.95, 0.99)}
    out["max"] = ordered[-1]
    return {k: round(v, 1) for k, v in out.items()}
