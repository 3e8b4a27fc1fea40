"""A restore's backup must cover every PV it writes; its end is one transaction with its audit row;
a resumed attempt verifies the writes an earlier one did not get to verify."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import psycopg
import pytest

from squirrel.db import jobs as jobs_db
from squirrel.db import restore as restore_db
from squirrel.db.pool import connection
from squirrel.errors import SquirrelError
from squirrel.services.restore.job import restore_job
from squirrel.tools.bench import figures
from tests.conftest import Api
from tests.integration.services.restore.test_restore import (
    caget,
    caput,
    outcomes,
    register,
    restore,
    run_restore,
    snapshot,
)
from tests.support.caproto_ioc import listed_ports
from tests.support.jobs import restore_job_context
from tests.support.restore_ioc import RestoreIOC, restore_ioc_fixture
from tests.support.snapshots import wait_job

(PORT,) = listed_ports(1)
pytestmark = pytest.mark.usefixtures("ca_purge")
NO_WORKER = pytest.mark.parametrize("settings_overrides", [{"worker": False}], indirect=True)


ioc = restore_ioc_fixture("RB:", PORT)


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    # Without a worker the job stays pending, and a test plays the attempts itself.
    worker = getattr(request, "param", {}).get("worker", True)
    return {"roles": ["api", "worker"] if worker else ["api"], "ca_put_timeout": 3.0, "ca_timeout": 2.0}


async def _backups(api: Api) -> list[dict[str, Any]]:
    listed = (await api.get("/v1/snapshots?labels=pre-restore", scope="read")).json()
    return list(listed)


async def _finish_rows(api: Api) -> list[dict[str, Any]]:
    r = await api.get("/v1/audit?action=snapshot.restore.finish")
    assert r.status_code == 200, r.text
    body = r.json()
    return list(body["results"] if isinstance(body, dict) else body)


async def test_restore_stops_before_writing_when_the_backup_would_lack_a_value(api: Api, ioc: RestoreIOC) -> None:
    a, b, other = ioc.name("a"), ioc.name("b"), ioc.name("n0")
    await caput([(a, 1.0), (b, 1.0)])
    ids = await register(api, {"setpointAddress": a}, {"setpointAddress": b})
    sid = await snapshot(api, ids)
    await caput([(a, 2.0), (b, 2.0)])
    # `a` now points elsewhere: the backup stores n0, while the restore writes the snapshot's address a.
    r = await api.put(f"/v1/pvs/{ids[0]}", json={"setpointAddress": other}, scope="write")
    assert r.status_code == 200, r.text

    r = await restore(api, sid)
    assert r.status_code == 202, r.text
    job = await wait_job(api, r.json()["jobId"], timeout=60.0)
    assert job["status"] == "failed", job
    assert job["error"].startswith("backup incomplete: 1 of 2 PVs to write have no backup value (RB:a)"), job
    assert outcomes(job["result"]) == {a: "failed", b: "cancelled"}
    assert job["result"]["backupSnapshotId"] is None and await _backups(api) == []
    assert await caget(a, b) == {a: 2.0, b: 2.0}  # nothing was written
    assert [row["summary"].split(":")[0] for row in await _finish_rows(api)] == [f"job {job['id']} failed"]

    result = await run_restore(api, sid, allowIncompleteBackup=True)
    assert outcomes(result) == {a: "written", b: "written"}
    assert result["backupSnapshotId"] is not None and len(await _backups(api)) == 1
    assert await caget(a, b) == {a: 1.0, b: 1.0}


@NO_WORKER
async def test_finish_audit_row_commits_with_the_job_completion(api: Api, ioc: RestoreIOC, database_url: str) -> None:
    a = ioc.name("a")
    await caput([(a, 1.0)])
    ids = await register(api, {"setpointAddress": a})
    sid = await snapshot(api, ids)
    await caput([(a, 2.0)])
    r = await restore(api, sid, backup=False)
    job_id = UUID(r.json()["jobId"])
    ctx = api.client.app.state.ctx
    async with connection(ctx.pool) as conn:
        row = await jobs_db.start(conn, job_id)
    assert row is not None
    # The process "dies" as the job's completion commits: PostgreSQL refuses it, rolling back its transaction.
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as admin:
        await admin.execute(
            "CREATE FUNCTION refuse_completion() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'simulated crash at completion'; END $$"
        )
        await admin.execute(
            "CREATE TRIGGER refuse_completion BEFORE UPDATE ON job FOR EACH ROW "
            "WHEN (NEW.status = 'completed') EXECUTE FUNCTION refuse_completion()"
        )
        with pytest.raises((SquirrelError, psycopg.Error)):
            await restore_job(ctx, restore_job_context(ctx, job_id, row))
        assert await _finish_rows(api) == []  # the audit row went with the completion
        await admin.execute("DROP TRIGGER refuse_completion ON job")
    outcome = await restore_job(ctx, restore_job_context(ctx, job_id, row))  # the retried attempt
    assert outcome.result is not None and outcome.result["counts"] == {"written": 1}
    assert (await api.get(f"/v1/jobs/{job_id}", scope="read")).json()["status"] == "completed"
    assert len(await _finish_rows(api)) == 1


@NO_WORKER
async def test_resumed_attempt_verifies_what_the_earlier_one_wrote(api: Api, ioc: RestoreIOC) -> None:
    sp, rb, b = ioc.name("sp"), ioc.name("rb"), ioc.name("b")
    await caput([(sp, 1.0), (b, 1.0)])
    ids = await register(api, {"setpointAddress": sp, "readbackAddress": rb}, {"setpointAddress": b})
    sid = await snapshot(api, ids)
    await caput([(sp, 2.0), (b, 2.0)])
    r = await restore(api, sid, backup=False, verify=True)
    job_id = UUID(r.json()["jobId"])
    ctx = api.client.app.state.ctx
    # Attempt 1 wrote sp (recorded as its chunk completed) and died before verifying the stage.
    await caput([(sp, 1.0)])
    async with connection(ctx.pool) as conn:
        await restore_db.ensure_run(conn, job_id, UUID(sid))
        await restore_db.record_items(conn, job_id, [(UUID(ids[0]), "written", None, True)])
        row = await jobs_db.start(conn, job_id)
    assert row is not None
    outcome = await restore_job(ctx, restore_job_context(ctx, job_id, row))
    assert outcome.result is not None
    assert outcomes(outcome.result) == {sp: "verified", b: "verified"}
    async with connection(ctx.pool) as conn:
        recorded = await restore_db.done_items(conn, job_id)
    assert {o for o, _, _ in recorded.values()} == {"verified"}


async def test_bench_restore_figure_says_why_a_restore_failed(api: Api, ioc: RestoreIOC) -> None:
    a, gone = ioc.name("a"), ioc.name("no_such_pv")
    ids = await register(api, {"setpointAddress": a}, {"setpointAddress": gone})
    sid = await snapshot(api, ids)  # `gone` is stored without a value: the restore cannot write it
    api.client.headers.update(api.headers("admin"))
    with pytest.raises(figures.BenchError) as caught:
        await figures.restore(api.client, sid, 30.0)
    assert re.fullmatch(
        r"restore job \S+ ended failed after [0-9.]+ s: 1 of 2 PVs not restored: 1 failed; "
        r"first: RB:no_such_pv: failed \(no stored value to write\)",
        str(caught.value),
    ), caught.value
