"""SIGKILL of `squirrel serve` in the middle of a snapshot job: exactly one snapshot after the restart."""

from __future__ import annotations

import asyncio

from tests.integration.api.test_jobs import _snapshot_count, _wait_blocked, snapshot_table_locked
from tests.support.serve_process import serve_process, wait_job_status


async def test_sigkill_mid_job_yields_exactly_one_snapshot(database_url: str) -> None:
    async with serve_process(database_url) as served, served.client() as client:
        body = [{"setpointAddress": f"K:{i}:SP", "readbackAddress": f"K:{i}:RB"} for i in range(30)]
        assert (await client.post("/v1/pvs/multi", json=body)).status_code == 201
        async with snapshot_table_locked(database_url) as lock:
            job_id = (await client.post("/v1/snapshots", json={"title": "crash"})).json()["jobId"]
            await wait_job_status(client, job_id, "running")
            await _wait_blocked(lock)
            served.kill()
        await served.restart()
        job = await wait_job_status(client, job_id, "completed")
        assert job["attempt"] == 2 and job["result"]["pvCount"] == 30
        assert await _snapshot_count(database_url) == (1, 0)
        # The recovered run and any late SAQ re-delivery of the killed attempt do not add a second one.
        await asyncio.sleep(1.0)
        assert await _snapshot_count(database_url) == (1, 0)
        snaps = (await client.get("/v1/snapshots")).json()
        assert [s["id"] for s in snaps] == [job["resultId"]]
