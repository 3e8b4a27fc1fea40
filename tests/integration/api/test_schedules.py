"""Schedules: CRUD with cron/timezone validation, and the worker loop turning a due one into one job."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from squirrel.services.schedules import run_due_schedules
from tests.conftest import Api
from tests.support.snapshots import WORKER, create_pvs, wait_job


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(WORKER)


async def test_crud_and_validation(api: Api) -> None:
    body = {"name": "nightly", "cron": "0 3 * * *", "timezone": "Europe/Berlin", "title": "Nightly"}
    r = await api.post("/v1/schedules", scope="write", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["enabled"] is True and created["useCache"] is True and created["lastRunAt"] is None
    assert created["nextRunAt"].endswith("Z") and created["nextRunAt"][11:13] in ("01", "02")  # 03:00 Berlin
    sid = created["id"]
    assert (await api.get(f"/v1/schedules/{sid}", scope="read")).json() == created
    assert [s["id"] for s in (await api.get("/v1/schedules")).json()] == [sid]
    r = await api.put(f"/v1/schedules/{sid}", scope="write", json={"cron": "*/5 * * * *", "enabled": False})
    assert r.status_code == 200 and r.json()["cron"] == "*/5 * * * *" and r.json()["nextRunAt"] is None
    for bad in ({"cron": "61 * * * *"}, {"cron": "* * * *"}, {"cron": "0 0 * * * *"}, {"timezone": "Mars/Base"}):
        r = await api.put(f"/v1/schedules/{sid}", scope="write", json=bad)
        assert r.status_code == 400, bad
        assert ("cron" if "cron" in bad else "timezone") in r.json()["detail"]
    assert (await api.post("/v1/schedules", json={**body, "name": " "})).status_code == 400
    assert (await api.post("/v1/schedules", json={**body, "bogus": 1})).status_code == 400
    assert (await api.post("/v1/schedules", json=body)).status_code == 409  # same name
    assert (await api.post("/v1/schedules", scope="read", json=body)).status_code == 403
    assert (await api.get("/v1/schedules/nope")).status_code == 404
    r = await api.delete(f"/v1/schedules/{sid}", scope="write")
    assert r.status_code == 200 and r.json()["deleted"] is True
    assert (await api.delete(f"/v1/schedules/{sid}")).status_code == 404


async def test_due_schedule_runs_once(api: Api, database_url: str) -> None:
    await create_pvs(api, 4)
    r = await api.post("/v1/schedules", json={"name": "often", "cron": "* * * * *", "title": "Every minute"})
    sid = r.json()["id"]
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("UPDATE schedule SET next_run_at = now() - interval '1 second' WHERE id = %s", (sid,))
    ctx = api.client.app.state.ctx
    portal = api.client.blocking_portal
    assert portal is not None
    # Two workers racing for the same due run: the second finds nothing due (or the same job key).
    first = portal.call(run_due_schedules, ctx)
    second = portal.call(run_due_schedules, ctx)
    assert (first, second) == (1, 0)
    jobs = (await api.get("/v1/jobs")).json()
    assert len(jobs) == 1 and jobs[0]["jobData"]["title"] == "Every minute"
    job = await wait_job(api, jobs[0]["id"])
    assert job["status"] == "completed" and job["result"]["pvCount"] == 4
    snap = (await api.get(f"/v1/snapshots/{job['resultId']}?limit=1")).json()
    assert snap["labels"] == ["scheduled"] and snap["createdBy"] == "schedule:often"
    after = (await api.get(f"/v1/schedules/{sid}")).json()
    assert after["lastRunAt"] is not None and after["nextRunAt"] > after["lastRunAt"]
