"""The job queue survives the loss of its connections (a PostgreSQL restart, terminated backends): a running
job's lock is taken again on a fresh connection, so a peer's recover() and sweep leave the job alone, and
the first job after the loss, of the lock connection or of SAQ's, is queued and runs at SAQ's first attempt."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from uuid import UUID

import psycopg
import pytest

from squirrel.jobs import queue as queue_module
from squirrel.jobs._tasks import lock_key
from squirrel.jobs.queue import SAQ_APPLICATION_NAME, JobQueue
from tests.conftest import make_settings
from tests.integration.api.test_jobs import _snapshot_count, _wait_blocked, snapshot_table_locked
from tests.integration.jobs.test_saq_sweep import _running
from tests.support.serve_process import wait_job_status as _job
from tests.support.server import run_server

Conn = psycopg.AsyncConnection[Any]


async def _lock_holder(conn: Conn, key: int) -> int | None:
    """The backend holding session advisory lock `key` (bigint locks: high half in classid, low in objid)."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    cur = await conn.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND classid = %s::bigint::oid AND objid = %s::bigint::oid",
        (unsigned >> 32, unsigned & 0xFFFF_FFFF),
    )
    row = await cur.fetchone()
    return None if row is None else int(row[0])


async def _terminate(conn: Conn, pid: int) -> None:
    """Kill one backend, as a restart does to every session, and wait until it is gone."""
    await conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    deadline = time.monotonic() + 10
    while await (await conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,))).fetchone():
        assert time.monotonic() < deadline, f"backend {pid} did not exit"
        await asyncio.sleep(0.05)


async def _terminate_application(conn: Conn, application_name: str) -> int:
    """Kill every backend of one application name; returns how many there were."""
    cur = await conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
        (application_name,),
    )
    pids = [int(row[0]) for row in await cur.fetchall()]
    for pid in pids:
        await _terminate(conn, pid)
    return len(pids)


async def _saq_attempts(database_url: str, job_id: str) -> int:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute("SELECT job FROM saq_jobs WHERE key = %s", (job_id,))
        row = await cur.fetchone()
    assert row is not None
    return int(json.loads(bytes(row[0]))["attempts"])


def _locks_of(queue: JobQueue) -> Any:
    assert queue.locks is not None and queue.locks.backend_pid is not None
    return queue.locks


async def test_a_running_jobs_lock_is_taken_again_after_its_connection_dies(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with run_server(make_settings(database_url, roles=["api", "worker"])) as server:
        locks = _locks_of(server.ctx.queue)
        async with server.client("write") as client:
            body = [{"setpointAddress": f"LK:{i}:SP", "readbackAddress": f"LK:{i}:RB"} for i in range(3)]
            assert (await client.post("/v1/pvs/multi", json=body)).status_code == 201
            async with snapshot_table_locked(database_url) as table_lock:
                job_id = (await client.post("/v1/snapshots", json={"title": "kept"})).json()["jobId"]
                await _running(client, job_id, 1)
                await _wait_blocked(table_lock)  # the job runs, inside its transaction, holding its lock
                key = lock_key(UUID(job_id))
                async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as probe:
                    lost = await _lock_holder(probe, key)
                    assert lost is not None and lost == locks.backend_pid
                    await _terminate(probe, lost)
                    # The lock died with its session; the worker notices and takes it again, on a new one.
                    deadline = time.monotonic() + 10
                    while (holder := await _lock_holder(probe, key)) in (None, lost):
                        assert time.monotonic() < deadline, "the running job's lock was not taken again"
                        await asyncio.sleep(0.05)
                    assert holder == locks.backend_pid and locks.held == {UUID(job_id)}
                    assert locks.reconnects == 1
                # A peer sees a live job: recover() does not run it again and its sweep keeps its dispatch.
                monkeypatch.setattr(queue_module, "RECOVERY_MIN_AGE", 0.0)
                monkeypatch.setattr(queue_module, "SWEEP_MIN_AGE", 0.0)
                async with run_server(make_settings(database_url, roles=["api", "worker"]), tokens=False) as peer:
                    assert await peer.ctx.queue.recover() == 0
                    assert await peer.ctx.queue.sweep_dispatches() == 0
                await table_lock.rollback()
            job = await _job(client, job_id, "completed")
            assert job["attempt"] == 1, job
        assert await _snapshot_count(database_url) == (1, 0)
        assert locks.held == set()
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as probe:
            assert await _lock_holder(probe, key) is None  # released by the finished job


async def test_the_first_job_after_the_lock_connection_died_runs_at_the_first_attempt(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No periodic check in between: the job itself meets the dead connection and must not fail on it.
    monkeypatch.setattr(queue_module, "LOCK_CHECK_INTERVAL", 3600.0)
    async with run_server(make_settings(database_url, roles=["api", "worker"])) as server:
        locks = _locks_of(server.ctx.queue)
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as probe:
            await _terminate(probe, locks.backend_pid)
        async with server.client("write") as client:
            job_id = (await client.post("/v1/snapshots", json={"title": "first"})).json()["jobId"]
            job = await _job(client, job_id, "completed")
        assert job["attempt"] == 1, job
        assert locks.reconnects == 1
        assert await _saq_attempts(database_url, job_id) == 1  # SAQ's first dispatch ran it: no failed attempt


async def test_saq_connections_lost_under_the_queue_are_replaced_before_use(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with run_server(make_settings(database_url, roles=["api", "worker"])) as server:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as probe:
            assert await _terminate_application(probe, SAQ_APPLICATION_NAME) > 0
        async with server.client("write") as client:
            queued = await client.post("/v1/snapshots", json={"title": "after"})
            assert queued.status_code == 202, queued.text  # queued through SAQ's pool
            job_id = queued.json()["jobId"]
            job = await _job(client, job_id, "completed")
        assert job["attempt"] == 1, job
        assert await _saq_attempts(database_url, job_id) == 1
    assert not [r for r in caplog.records if r.name.startswith("saq") and r.levelname == "ERROR"], caplog.text
