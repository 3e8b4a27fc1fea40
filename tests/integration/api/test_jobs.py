"""The job record: list/get/cancel, SSE progress, and a database fault in the middle of a snapshot job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest

from tests.conftest import Api, make_settings
from tests.support.server import SseReader, run_server
from tests.support.snapshots import WORKER, create_pvs, fill_kinds, snapshot, wait_job

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(WORKER)


@asynccontextmanager
async def snapshot_table_locked(database_url: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """Hold an exclusive lock on `snapshot` so a snapshot job blocks inside its transaction."""
    conn = await psycopg.AsyncConnection.connect(database_url)
    try:
        await conn.execute("LOCK TABLE snapshot IN ACCESS EXCLUSIVE MODE")
        yield conn
    finally:
        await conn.rollback()
        await conn.close()


async def _blocked_backends(conn: psycopg.AsyncConnection[Any]) -> list[int]:
    cur = await conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return [r[0] for r in await cur.fetchall()]


async def _wait_blocked(conn: psycopg.AsyncConnection[Any]) -> list[int]:
    async with asyncio.timeout(20):
        while True:
            pids = await _blocked_backends(conn)
            if pids:
                return pids
            await asyncio.sleep(0.05)


async def _snapshot_count(database_url: str) -> tuple[int, int]:
    """(snapshots, snapshots whose stored value rows do not match pv_count)."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE pv_count <> (SELECT count(*) FROM snapshot_value v"
            " WHERE v.snapshot_id = s.id)) FROM snapshot s"
        )
        row = await cur.fetchone()
    assert row is not None
    return row[0], row[1]


async def test_list_get_and_bad_input(api: Api) -> None:
    pvs = await create_pvs(api, 3)
    fill_kinds(api.client.app.state.ctx.cache, pvs)
    job = await snapshot(api, "one")
    listed = (await api.get("/v1/jobs?status=completed&type=snapshot_create&limit=10", scope="read")).json()
    assert [j["id"] for j in listed] == [job["id"]]
    assert set(listed[0]) >= {
        "id", "type", "status", "progress", "message", "resultId", "error", "jobData", "result",
        "createdAt", "startedAt", "completedAt",
    }  # fmt: skip
    assert listed[0]["jobData"]["title"] == "one" and listed[0]["result"]["pvCount"] == 3
    assert (await api.get("/v1/jobs?status=running")).json() == []
    assert (await api.get("/v1/jobs?status=weird")).status_code == 400
    assert (await api.get("/v1/jobs?type=weird")).status_code == 400
    assert (await api.get("/v1/jobs?limit=0")).status_code == 400
    assert (await api.get(f"/v1/jobs/{UNKNOWN}")).status_code == 404
    assert (await api.get("/v1/jobs/not-a-uuid")).status_code == 404
    assert (await api.delete(f"/v1/jobs/{UNKNOWN}")).status_code == 404


async def test_cancel_running_job_and_finished_job(api: Api, database_url: str) -> None:
    pvs = await create_pvs(api, 5)
    fill_kinds(api.client.app.state.ctx.cache, pvs)
    done = await snapshot(api, "finished")
    r = await api.delete(f"/v1/jobs/{done['id']}", scope="write")
    assert r.status_code == 409 and "already completed" in r.json()["detail"]
    async with snapshot_table_locked(database_url) as lock:
        job_id = (await api.post("/v1/snapshots", json={"title": "to cancel"})).json()["jobId"]
        await _wait_blocked(lock)
        assert (await api.delete(f"/v1/jobs/{job_id}", scope="read")).status_code == 403
        assert (await api.delete(f"/v1/jobs/{job_id}", scope="restore")).status_code == 403
        r = await api.delete(f"/v1/jobs/{job_id}", scope="write")
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
    job = await wait_job(api, job_id)
    assert job["status"] == "cancelled" and job["resultId"] is None
    await asyncio.sleep(0.5)  # the task has resumed and rolled back by now
    assert (await api.get(f"/v1/jobs/{job_id}")).json()["status"] == "cancelled"
    assert await _snapshot_count(database_url) == (1, 0)
    assert (await api.delete(f"/v1/jobs/{job_id}")).status_code == 409


async def test_database_fault_mid_job_retries_without_partial_snapshot(api: Api, database_url: str) -> None:
    pvs = await create_pvs(api, 50)
    fill_kinds(api.client.app.state.ctx.cache, pvs)
    async with snapshot_table_locked(database_url) as lock:
        job_id = (await api.post("/v1/snapshots", json={"title": "fault"})).json()["jobId"]
        pids = await _wait_blocked(lock)
        # The job's backend dies under it (as in a database restart).
        for pid in pids:
            await lock.execute("SELECT pg_terminate_backend(%s)", (pid,))
        await asyncio.sleep(0.3)
    job = await wait_job(api, job_id, timeout=60)
    assert job["status"] == "completed", job
    assert job["attempt"] >= 2
    assert await _snapshot_count(database_url) == (1, 0)
    values = (await api.get(f"/v1/snapshots/{job['resultId']}")).json()["pvValues"]
    assert len(values) == 50


async def test_sse_progress_then_done(database_url: str) -> None:
    async with run_server(make_settings(database_url, **WORKER)) as server:
        async with server.client("admin") as client:
            body = [{"setpointAddress": f"S:{i}"} for i in range(5)]
            assert (await client.post("/v1/pvs/multi", json=body)).status_code == 201
            async with snapshot_table_locked(database_url) as lock:
                job_id = (await client.post("/v1/snapshots", json={"title": "sse"})).json()["jobId"]
                await _wait_blocked(lock)
                async with client.stream("GET", f"/v1/jobs/{job_id}/events?api_key={server.tokens['read']}") as resp:
                    assert resp.status_code == 200
                    assert resp.headers["content-type"].startswith("text/event-stream")
                    reader = SseReader(resp)
                    first = await reader.next()
                    assert first.event == "progress" and first.json()["status"] == "running"
                    await lock.rollback()
                    events = [first]
                    while events[-1].event != "done":
                        events.append(await reader.next(timeout=20))
            done = events[-1].json()
            assert done["status"] == "completed" and done["progress"] == 100 and done["resultId"]
            progress = [e.json()["progress"] for e in events]
            assert progress == sorted(progress)
            assert [e.id for e in events] == list(range(1, len(events) + 1))
            r = await client.get(f"/v1/jobs/{UNKNOWN}/events")
            assert r.status_code == 404
