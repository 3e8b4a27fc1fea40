"""Crash safety: a retried restore attempt skips the PVs an earlier attempt recorded as done."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from squirrel.db import jobs as jobs_db
from squirrel.db import restore as restore_db
from squirrel.db.pool import connection
from squirrel.services.restore.job import restore_job
from tests.conftest import Api
from tests.integration.services.restore.test_restore import caget, caput, register, restore, snapshot
from tests.support.caproto_ioc import listed_ports
from tests.support.jobs import restore_job_context
from tests.support.restore_ioc import RestoreIOC, restore_ioc_fixture

(PORT,) = listed_ports(1)
pytestmark = pytest.mark.usefixtures("ca_purge")


ioc = restore_ioc_fixture("RR:", PORT)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # No worker: the job stays pending, and this test plays the retried attempt itself.
    return {"roles": ["api"], "ca_put_timeout": 3.0, "ca_timeout": 2.0}


async def test_retried_attempt_does_not_repeat_completed_writes(api: Api, ioc: RestoreIOC) -> None:
    a, b = ioc.name("a"), ioc.name("b")
    await caput([(a, 1.0), (b, 1.0)])
    ids = await register(api, {"setpointAddress": a}, {"setpointAddress": b, "restoreOrder": 1})
    sid = await snapshot(api, ids)
    await caput([(a, 2.0), (b, 2.0)])
    r = await restore(api, sid, backup=False)
    assert r.status_code == 202, r.text
    job_id = UUID(r.json()["jobId"])

    ctx = api.client.app.state.ctx
    # Attempt 1 wrote `a` (stage 1), recorded it, and the process died; an operator then moved `a`.
    async with connection(ctx.pool) as conn:
        await restore_db.ensure_run(conn, job_id, UUID(sid))
        await restore_db.record_items(conn, job_id, [(UUID(ids[0]), "written", None, True)])
    await caput([(a, 3.0)])

    async with connection(ctx.pool) as conn:
        row = await jobs_db.start(conn, job_id)
    assert row is not None
    job = restore_job_context(ctx, job_id, row)
    outcome = await restore_job(ctx, job)
    assert outcome.result is not None and outcome.result_id == UUID(sid)
    assert {i["pvName"]: i["outcome"] for i in outcome.result["items"]} == {a: "written", b: "written"}
    assert outcome.result["changedCount"] == 2  # the earlier attempt's write still counts
    # `a` was not written again (it keeps the operator's 3.0); `b` was restored.
    assert await caget(a, b) == {a: 3.0, b: 1.0}
