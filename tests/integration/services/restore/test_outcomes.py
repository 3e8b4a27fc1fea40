"""A restore says what it really did (real caproto IOCs, real PostgreSQL, HTTP API, in-process worker).

`completed` only when no PV failed; otherwise `failed` with the counts and the full result, never
retried. The summary tells changed PVs from those already at their target, and the dry-run plan reads
live state (equal, disconnected, circuit open).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.conftest import Api
from tests.integration.services.restore.test_restore import (
    actions,
    caget,
    caput,
    dry_run,
    outcomes,
    register,
    restore,
    snapshot,
)
from tests.support.caproto_ioc import listed_ports
from tests.support.restore_ioc import WITH_MONITOR, RestoreIOC, monitor_roles, restore_ioc_fixture
from tests.support.snapshots import wait_job as wait_restore_job

OK_PORT, DEAD_PORT = listed_ports(2)
pytestmark = pytest.mark.usefixtures("ca_purge")
ioc = restore_ioc_fixture("RO:", OK_PORT)
doomed = restore_ioc_fixture("RX:", DEAD_PORT, scope="function")


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    return {"roles": monitor_roles(request, ["api", "worker"]), "ca_put_timeout": 3.0, "ca_timeout": 2.0}


async def finished(api: Api, snapshot_id: str, **body: Any) -> dict[str, Any]:
    r = await restore(api, snapshot_id, **body)
    assert r.status_code == 202, r.text
    job = await wait_restore_job(api, r.json()["jobId"], timeout=60.0)
    assert job["resultId"] == snapshot_id and job["result"] is not None, job
    return job


async def test_restore_of_a_stopped_ioc_ends_failed_with_counts_and_result(api: Api, doomed: RestoreIOC) -> None:
    names = [doomed.name("a"), doomed.name("b"), doomed.name("slow")]
    await caput([(n, 1.0) for n in names])
    ids = await register(api, *({"setpointAddress": n} for n in names))
    sid = await snapshot(api, ids)
    doomed.stop()

    plan = await dry_run(api, sid)
    assert plan["counts"] == {"disconnected": 3}, plan
    assert all(i["reason"] for i in plan["items"]), plan

    job = await finished(api, sid, backup=False)
    assert job["status"] == "failed", job
    assert job["error"] == "3 of 3 PVs not restored: 3 disconnected"
    assert job["message"].startswith("Restore failed: 3 of 3 PVs not restored"), job["message"]
    result = job["result"]
    assert (result["totalPVs"], result["successCount"], result["failureCount"], result["changedCount"]) == (3, 0, 3, 0)
    assert result["counts"] == {"disconnected": 3}
    assert set(outcomes(result)) == set(names)
    assert job["progress"] == 100 and job["completedAt"] is not None
    # A final outcome, not a crash: the queue does not try it again.
    await asyncio.sleep(1.0)
    again = (await api.get(f"/v1/jobs/{job['id']}", scope="read")).json()
    assert again["status"] == "failed" and again["attempt"] == 1, again


async def test_out_of_limits_is_a_failure(api: Api, ioc: RestoreIOC) -> None:
    limited, a = ioc.name("limited"), ioc.name("a")
    await caput([(limited, 50.0), (a, 1.0)])
    ids = await register(api, {"setpointAddress": limited}, {"setpointAddress": a})
    sid = await snapshot(api, ids)
    await caput([(limited, 1.0), (a, 2.0)])

    plan = await dry_run(api, sid)
    assert actions(plan) == {limited: "out_of_limits", a: "write"}
    reason = next(i["reason"] for i in plan["items"] if i["pvName"] == limited)
    assert "limits" in reason and "force" in reason

    job = await finished(api, sid, backup=False)
    assert job["status"] == "failed", job
    assert job["error"] == "1 of 2 PVs not restored: 1 out_of_limits"
    assert outcomes(job["result"]) == {limited: "out_of_limits", a: "written"}
    assert (job["result"]["successCount"], job["result"]["failureCount"], job["result"]["changedCount"]) == (1, 1, 1)
    assert await caget(limited, a) == {limited: 1.0, a: 1.0}


async def test_changed_count_tells_changed_from_already_at_target(api: Api, ioc: RestoreIOC) -> None:
    a, b, sp = ioc.name("a"), ioc.name("b"), ioc.name("sp")
    await caput([(a, 1.0), (b, 1.0), (sp, 1.0)])
    ids = await register(
        api, {"setpointAddress": a}, {"setpointAddress": b}, {"setpointAddress": sp, "readbackAddress": ioc.name("rb")}
    )
    sid = await snapshot(api, ids)
    await caput([(a, 2.0)])

    # The plan reads live state: unchanged PVs are `equal` even though skipEqual=false writes them.
    plan = await dry_run(api, sid)
    assert actions(plan) == {a: "write", b: "equal", sp: "equal"}
    assert plan["counts"] == {"write": 1, "equal": 2}
    assert (await dry_run(api, sid, skipEqual=True))["counts"] == {"write": 1, "equal": 2}

    job = await finished(api, sid, backup=False, verify=True)
    assert job["status"] == "completed" and job["error"] is None, job
    result = job["result"]
    assert result["counts"] == {"verified": 3}
    assert (result["successCount"], result["failureCount"], result["changedCount"]) == (3, 0, 1)
    assert job["message"] == "Restore finished: 1 changed, 2 already at target"
    assert (await caget(a))[a] == 1.0

    await caput([(b, 5.0)])
    job = await finished(api, sid, backup=False, skipEqual=True)
    assert job["status"] == "completed", job
    assert outcomes(job["result"]) == {a: "equal", b: "written", sp: "equal"}
    assert job["result"]["changedCount"] == 1
    assert job["message"] == "Restore finished: 1 changed, 2 already at target"

    ro = await register(api, {"setpointAddress": ioc.name("n0"), "readOnly": True})
    sid = await snapshot(api, [*ids, *ro])
    job = await finished(api, sid, backup=False)
    assert job["status"] == "completed", job
    assert job["message"] == "Restore finished: 0 changed, 3 already at target; 1 skipped: 1 read_only"


async def circuit_of(api: Api, port: int) -> str:
    body = (await api.get("/v1/health/circuits", scope="read")).json()
    names = [c["name"] for c in body["circuits"] if c["name"].endswith(f":{port}")]
    assert names, body
    return str(names[0])


@WITH_MONITOR
async def test_dry_run_and_restore_with_the_circuit_open(api: Api, ioc: RestoreIOC) -> None:
    a, b = ioc.name("n1"), ioc.name("n2")
    await caput([(a, 1.0), (b, 1.0)])
    ids = await register(api, {"setpointAddress": a}, {"setpointAddress": b})
    sid = await snapshot(api, ids)
    await caput([(a, 2.0)])
    deadline = time.monotonic() + 20
    plan: dict[str, Any] = {}
    while time.monotonic() < deadline:  # until the monitor's cache has the new value
        plan = await dry_run(api, sid)
        if actions(plan) == {a: "write", b: "equal"}:
            break
        await asyncio.sleep(0.2)
    assert actions(plan) == {a: "write", b: "equal"}, plan

    circuit = await circuit_of(api, OK_PORT)
    r = await api.post(f"/v1/health/circuits/{circuit}/open", scope="admin")
    assert r.status_code == 200, r.text
    try:
        # The cache still shows both PVs connected with their last values: the plan must not trust it.
        plan = await dry_run(api, sid)
        assert actions(plan) == {a: "disconnected", b: "disconnected"}, plan
        assert {i["reason"] for i in plan["items"]} == {"circuit open"}
        job = await finished(api, sid, backup=False)
        assert job["status"] == "failed", job
        assert job["error"] == "2 of 2 PVs not restored: 2 disconnected"
        assert {i["error"] for i in job["result"]["items"]} == {"circuit open"}
    finally:
        r = await api.post(f"/v1/health/circuits/{circuit}/close", scope="admin")
        assert r.status_code == 200, r.text
    assert (await caget(a))[a] == 2.0
