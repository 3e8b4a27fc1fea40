"""A SIGKILLed `serve` leaves its SAQ dispatch 'active'; a live peer on the same database sweeps it once no
worker holds the job's lock, and never touches the dispatches it is running itself."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import psycopg
import pytest

from squirrel.jobs import queue as queue_module
from tests.conftest import make_settings
from tests.integration.api.test_jobs import _wait_blocked, snapshot_table_locked
from tests.support.serve_process import serve_process, wait_job_status
from tests.support.server import run_server


async def _saq_rows(database_url: str) -> dict[str, str]:
    """SAQ key → status of every dispatch in our queue."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute("SELECT key, status FROM saq_jobs WHERE queue = %s", (queue_module.QUEUE_NAME,))
        return {key: status for key, status in await cur.fetchall()}


async def _running(client: httpx.AsyncClient, job_id: str, attempt: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        job: dict[str, Any] = (await client.get(f"/v1/jobs/{job_id}")).json()
        if job["status"] == "running" and job["attempt"] == attempt:
            return
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.1)


async def test_dead_workers_dispatch_is_swept_and_a_live_peers_is_not(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serve_process(database_url) as served, served.client() as client:
        body = [{"setpointAddress": f"SW:{i}:SP", "readbackAddress": f"SW:{i}:RB"} for i in range(5)]
        assert (await client.post("/v1/pvs/multi", json=body)).status_code == 201
        async with snapshot_table_locked(database_url) as lock:
            killed = (await client.post("/v1/snapshots", json={"title": "killed"})).json()["jobId"]
            await wait_job_status(client, killed, "running")
            await _wait_blocked(lock)
            served.kill()
            assert (await _saq_rows(database_url))[killed] == "active"  # left behind by the dead worker

            # A live peer: it recovers the killed job and runs a job of its own, both blocked on the lock.
            async with run_server(make_settings(database_url, roles=["api", "worker"])) as peer:
                async with peer.client("write") as pc:
                    own = (await pc.post("/v1/snapshots", json={"title": "live"})).json()["jobId"]
                    await _running(pc, own, 1)
                    await _running(pc, killed, 2)
                # Age is no shelter here: only the job lock decides.
                monkeypatch.setattr(queue_module, "SWEEP_MIN_AGE", 0.0)
                assert await peer.ctx.queue.sweep_dispatches() == 0
                rows = await _saq_rows(database_url)
                assert rows[own] == "active", rows  # the live peer's running dispatch is untouched
                assert rows[killed] == "active", rows  # its job runs again in the peer: still locked
                await lock.rollback()  # both jobs complete in the peer
                async with peer.client("read") as pc:
                    assert (await wait_job_status(pc, own, "completed"))["attempt"] == 1
                    assert (await wait_job_status(pc, killed, "completed"))["attempt"] == 2
                # The dead worker's dispatch: no lock holder any more, so the peer sweeps it.
                deadline = time.monotonic() + 20
                while (rows := await _saq_rows(database_url))[killed] == "active":
                    assert time.monotonic() < deadline, rows
                    await peer.ctx.queue.sweep_dispatches()
                    await asyncio.sleep(0.2)
                assert rows[killed] == "failed" and rows[own] == "complete", rows
                assert list(rows.values()).count("active") == 0, rows
