"""When the database drops every session (as a restart of an external PostgreSQL does), the next request
and the next job work at once: no pooled connection that died is handed out, none fails its caller."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import make_settings
from tests.integration.jobs.test_locks import _saq_attempts, _terminate
from tests.support.serve_process import wait_job_status as _job
from tests.support.server import run_server


async def test_the_first_request_and_job_after_every_session_died_succeed(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with run_server(make_settings(database_url, roles=["api", "worker"])) as server:
        async with server.client("admin") as admin:
            assert (await admin.get("/v1/api-keys")).status_code == 200  # the request pool holds a connection
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as probe:
            cur = await probe.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            pids = [int(row[0]) for row in await cur.fetchall()]
            assert len(pids) >= 3  # request pool, SAQ's pool, the job lock connection (and listeners)
            for pid in pids:
                await _terminate(probe, pid)
        async with server.client("admin") as admin:
            keys = await admin.get("/v1/api-keys")
            assert keys.status_code == 200, keys.text
        async with server.client("write") as client:
            queued = await client.post("/v1/snapshots", json={"title": "after every session died"})
            assert queued.status_code == 202, queued.text
            job = await _job(client, queued.json()["jobId"], "completed")
        assert job["attempt"] == 1, job
        assert await _saq_attempts(database_url, job["id"]) == 1
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")], caplog.text
