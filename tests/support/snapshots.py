"""Helpers shared by the snapshot, job, compare and export tests: PVs, cache values, job waits."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from squirrel.pv import PVCache
from tests.conftest import Api

WORKER = {"roles": ["api", "worker"]}
TERMINAL = ("completed", "failed", "cancelled")


async def create_pvs(api: Api, n: int, prefix: str = "T", tags: list[str] | None = None) -> list[dict[str, Any]]:
    body = [
        {"setpointAddress": f"{prefix}:{i:05d}:SP", "readbackAddress": f"{prefix}:{i:05d}:RB", "tags": tags or []}
        for i in range(n)
    ]
    r = await api.post("/v1/pvs/multi", json=body)
    assert r.status_code == 201, r.text
    listed: list[dict[str, Any]] = (await api.get(f"/v1/pvs?pvName={prefix}:")).json()
    return sorted(listed, key=lambda p: p["setpointAddress"])


def put_value(cache: PVCache, address: str, value: Any, type_: str = "double", **kw: Any) -> None:
    state = cache.ensure(address)
    state.value = value
    state.type = type_
    error = state.error
    cache.set_connected(address, kw.pop("connected", True))  # as the monitor does: the cache counts it
    state.error = error
    state.has_value = state.connected
    state.status = kw.pop("status", "NO_ALARM")
    state.severity = kw.pop("severity", 0)
    state.timestamp_ns = kw.pop("timestamp_ns", 1_700_000_000_123_456_789)
    state.timestamp = state.timestamp_ns / 1e9
    state.updated_at = time.time() - kw.pop("age", 0.5)
    for key, val in kw.items():
        setattr(state, key, val)


# One PV of each kind, for fidelity checks: (value, type, extra fields).
KINDS: list[tuple[Any, str, dict[str, Any]]] = [
    (math.nan, "double", {"units": "mm", "precision": 3, "upper_ctrl_limit": 10.0, "lower_ctrl_limit": -10.0}),
    (math.inf, "double", {}),
    (0.1 + 0.2, "double", {}),
    ("Closed", "enum", {"enum_index": 1, "enum_strings": ["Open", "Closed"]}),
    ("NaN", "string", {}),
    ([1.5, math.nan, -math.inf], "double[]", {}),
    (42, "long", {}),
]


def fill_kinds(cache: PVCache, pvs: list[dict[str, Any]]) -> None:
    """The first len(KINDS) PVs get one kind each; the others a plain double."""
    for i, pv in enumerate(pvs):
        value, type_, extra = KINDS[i] if i < len(KINDS) else (float(i), "double", {})
        put_value(cache, pv["setpointAddress"], value, type_, **extra)
        put_value(cache, pv["readbackAddress"], value, type_, **extra)


async def wait_job(api: Api, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = await api.get(f"/v1/jobs/{job_id}")
        assert r.status_code == 200, r.text
        job: dict[str, Any] = r.json()
        if job["status"] in TERMINAL:
            return job
        assert time.monotonic() < deadline, f"job still {job['status']}: {job}"
        await asyncio.sleep(0.05)


async def snapshot(api: Api, title: str = "snap", **body: Any) -> dict[str, Any]:
    """Take a snapshot through a job and return the finished job."""
    r = await api.post("/v1/snapshots", json={"title": title, **body})
    assert r.status_code == 202, r.text
    job = await wait_job(api, r.json()["jobId"])
    assert job["status"] == "completed", job
    return job
