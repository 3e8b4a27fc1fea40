"""Restore end to end: real PostgreSQL, real caproto IOCs, the HTTP API and the in-process job worker."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import pytest

from squirrel.epics.ca import read_many, write_many
from squirrel.tools.sim import SimHandle
from tests.conftest import Api
from tests.support.caproto_ioc import listed_ports
from tests.support.restore_ioc import SLOW_PUT, WITH_MONITOR, RestoreIOC, monitor_roles, restore_ioc_fixture
from tests.support.snapshots import wait_job

# libca reads the address list once per process, before the first CA call: list our IOCs at import.
RT_PORT, RD_PORT = listed_ports(2)

pytestmark = pytest.mark.usefixtures("ca_purge")

rioc = restore_ioc_fixture("RT:", RT_PORT)
dying_ioc = restore_ioc_fixture("RD:", RD_PORT, scope="function")


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    return {"roles": monitor_roles(request, ["api", "worker"]), "ca_put_timeout": 3.0, "ca_timeout": 2.0}


# --- helpers ------------------------------------------------------------------------------------------
async def register(api: Api, *specs: dict[str, Any]) -> list[str]:
    r = await api.post("/v1/pvs/multi", json=list(specs), scope="write")
    assert r.status_code in (200, 201), r.text
    return [pv["id"] for pv in r.json()]


async def snapshot(api: Api, pv_ids: list[str], title: str = "before") -> str:
    r = await api.post(
        "/v1/snapshots?async=false&use_cache=false", json={"title": title, "pvIds": pv_ids}, scope="write"
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return str(body.get("id") or body.get("snapshotId"))


async def caput(items: list[tuple[str, Any]]) -> None:
    results = await write_many(items, 5.0)
    assert all(r.outcome == "written" for r in results.values()), results


async def caget(*addresses: str) -> dict[str, Any]:
    states = await read_many(list(addresses), 5.0)
    assert all(s.connected for s in states.values()), states
    return {a: s.value for a, s in states.items()}


async def restore(api: Api, snapshot_id: str, scope: str = "restore", **body: Any) -> Any:
    return await api.post(f"/v1/snapshots/{snapshot_id}/restore", json=body, scope=scope)


async def dry_run(api: Api, snapshot_id: str, **body: Any) -> dict[str, Any]:
    r = await api.post(f"/v1/snapshots/{snapshot_id}/restore?dryRun=true", json=body, scope="read")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def run_restore(api: Api, snapshot_id: str, status: str = "completed", **body: Any) -> dict[str, Any]:
    r = await restore(api, snapshot_id, **body)
    assert r.status_code == 202, r.text
    job = await wait_job(api, r.json()["jobId"], timeout=60.0)
    assert job["status"] == status, job
    assert job["resultId"] == snapshot_id
    return dict(job["result"])


def outcomes(result: dict[str, Any]) -> dict[str, str]:
    return {i["pvName"]: i["outcome"] for i in result["items"]}


def actions(plan: dict[str, Any]) -> dict[str, str]:
    return {i["pvName"]: i["action"] for i in plan["items"]}


# --- the full cycle -------------------------------------------------------------------------------------
@WITH_MONITOR
async def test_full_cycle_restores_exact_values(api: Api, sim_ioc: SimHandle, rioc: RestoreIOC) -> None:
    x = sim_ioc.special
    kinds = ["double", "nan", "long", "short", "float", "enum", "string", "wave", "chars"]
    snap_values: list[tuple[str, Any]] = [
        (x["double"], 3.25),
        (x["nan"], math.nan),
        (x["long"], 17),
        (x["short"], -3),
        (x["float"], 0.5),
        (x["enum"], "Fault"),
        (x["string"], "saved text"),
        (x["wave"], [1.5, math.nan, -math.inf, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]),
        (x["chars"], "saved note"),
        (rioc.name("sp"), 4.5),
    ]
    await caput(snap_values)
    specs = [{"setpointAddress": x[k]} for k in kinds]
    specs.append({"setpointAddress": rioc.name("sp"), "readbackAddress": rioc.name("rb")})
    ids = await register(api, *specs)
    sid = await snapshot(api, ids)

    changed = [
        (x["double"], -1.0),
        (x["nan"], 2.0),
        (x["long"], 99),
        (x["short"], 12),
        (x["float"], 7.25),
        (x["enum"], "Standby"),
        (x["string"], "changed"),
        (x["wave"], [0.0] * 10),
        (x["chars"], "changed note"),
        (rioc.name("sp"), -2.0),
    ]
    await caput(changed)

    # Compare-with-live sees every PV differ once the monitor has the new values (sp: setpoint and readback).
    deadline = time.monotonic() + 20
    diff: dict[str, Any] = {}
    while time.monotonic() < deadline:
        diff = (await api.get(f"/v1/snapshots/{sid}/compare/live", scope="read")).json()
        if diff.get("differenceCount") == len(ids) + 1:
            break
        await asyncio.sleep(0.2)
    assert diff["differenceCount"] == len(ids) + 1 and diff["matchCount"] == 0, diff
    assert len({d["pvId"] for d in diff["differences"]}) == len(ids)

    plan = await dry_run(api, sid)
    assert plan["snapshotId"] == sid and plan["counts"] == {"write": len(ids)}
    by_name = {i["pvName"]: i for i in plan["items"]}
    assert by_name[x["nan"]]["targetValue"] == "NaN" and by_name[x["nan"]]["currentValue"] == 2.0
    assert by_name[x["enum"]]["targetValue"] == "Fault"
    assert (await dry_run(api, sid, skipEqual=True))["counts"] == {"write": len(ids)}

    result = await run_restore(api, sid, verify=True)
    assert result["counts"] == {"verified": len(ids)}, result
    assert (result["totalPVs"], result["successCount"], result["failureCount"]) == (len(ids), len(ids), 0)
    assert result["backupSnapshotId"]

    got = await caget(*(a for a, _ in snap_values))
    for address, expected in snap_values:
        value = got[address]
        if isinstance(expected, float) and math.isnan(expected):
            assert math.isnan(value), address
        elif address == x["wave"]:
            assert value[0] == 1.5 and math.isnan(value[1]) and value[2] == -math.inf and value[3:] == expected[3:]
        else:
            assert value == expected, address
    assert (await caget(rioc.name("rb")))[rioc.name("rb")] == 4.5

    # The backup holds the values the restore overwrote, labelled pre-restore.
    backup = (await api.get(f"/v1/snapshots/{result['backupSnapshotId']}", scope="read")).json()
    assert "pre-restore" in backup["labels"]
    stored = {v["pvName"]: v["setpointValue"]["value"] for v in backup["pvValues"]}
    assert stored[x["double"]] == -1.0 and stored[x["enum"]] == "Standby"

    # Everything is equal now: skipEqual skips all, and without a backup none is taken.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if (await dry_run(api, sid, skipEqual=True))["counts"] == {"equal": len(ids)}:
            break
        await asyncio.sleep(0.2)
    again = await run_restore(api, sid, skipEqual=True, backup=False)
    assert again["counts"] == {"equal": len(ids)} and again["backupSnapshotId"] is None


async def test_rules_read_only_limits_force_stages_and_mismatch(api: Api, rioc: RestoreIOC) -> None:
    n = rioc.name
    await caput([(n("limited"), 50.0), (n("a"), 5.0), (n("b"), 5.0), (n("slow"), 5.0), (n("stuck"), 5.0)])
    ids = await register(
        api,
        {"setpointAddress": n("a"), "readOnly": True},
        {"setpointAddress": n("limited")},
        {"setpointAddress": n("slow"), "restoreOrder": -5},
        {"setpointAddress": n("b"), "restoreOrder": 3, "putCompletion": False},
        {"setpointAddress": n("stuck"), "readbackAddress": n("stuck_rb"), "restoreOrder": 3},
    )
    sid = await snapshot(api, ids)
    await caput([(n("limited"), 1.0), (n("a"), 6.0), (n("b"), 6.0), (n("slow"), 6.0), (n("stuck"), 6.0)])

    plan = await dry_run(api, sid)
    assert actions(plan) == {
        n("a"): "read_only",
        n("limited"): "out_of_limits",
        n("slow"): "write",
        n("b"): "write",
        n("stuck"): "write",
    }
    assert plan["counts"] == {"read_only": 1, "out_of_limits": 1, "write": 3}

    result = await run_restore(api, sid, "failed", verify=True, backup=False)
    assert outcomes(result) == {
        n("a"): "read_only",
        n("limited"): "out_of_limits",
        n("slow"): "verified",
        n("b"): "verified",
        n("stuck"): "mismatch",
    }, result
    stuck = next(i for i in result["items"] if i["pvName"] == n("stuck"))
    assert n("stuck_rb") in stuck["error"]
    assert (result["successCount"], result["failureCount"]) == (2, 2)  # out_of_limits and mismatch
    got = await caget(n("a"), n("limited"), n("b"), n("slow"))
    assert got == {n("a"): 6.0, n("limited"): 1.0, n("b"): 5.0, n("slow"): 5.0}

    # Stages ran in restore order: b (order 3) was written after the slow put (order -5) completed.
    states = await read_many([n("slow"), n("b")], 5.0)
    assert states[n("b")].timestamp >= states[n("slow")].timestamp  # type: ignore[operator]

    forced = await run_restore(api, sid, pvIds=[ids[1]], force=True, backup=False)
    assert outcomes(forced) == {n("limited"): "written"}
    assert (await caget(n("limited")))[n("limited")] == 50.0


async def test_deleted_pvs_are_not_in_registry(api: Api, rioc: RestoreIOC) -> None:
    n = rioc.name
    await caput([(n("a"), 1.0), (n("b"), 1.0)])
    ids = await register(api, {"setpointAddress": n("a")}, {"setpointAddress": n("b")})
    sid = await snapshot(api, ids)
    await caput([(n("a"), 2.0), (n("b"), 2.0)])
    assert (await api.delete(f"/v1/pvs/{ids[0]}", scope="write")).status_code == 200

    plan = await dry_run(api, sid)
    assert actions(plan) == {n("a"): "not_in_registry", n("b"): "write"}
    result = await run_restore(api, sid)
    assert outcomes(result) == {n("a"): "not_in_registry", n("b"): "written"}
    assert await caget(n("a"), n("b")) == {n("a"): 2.0, n("b"): 1.0}


async def test_bad_input(api: Api, rioc: RestoreIOC) -> None:
    ids = await register(api, {"setpointAddress": rioc.name("a")})
    sid = await snapshot(api, ids)
    other = await register(api, {"setpointAddress": rioc.name("b")})

    r = await restore(api, sid, pvIds=[])
    assert r.status_code == 400 and "pvIds" in r.json()["detail"]
    r = await restore(api, sid, pvIds=[other[0]])
    assert r.status_code == 400 and other[0] in r.json()["detail"] and r.json()["pvIds"] == [other[0]]
    r = await restore(api, sid, pvIds=["not-a-uuid"])
    assert r.status_code == 400 and "pvIds" in r.json()["detail"]
    r = await restore(api, sid, pvIds=[ids[0], ids[0]])
    assert r.status_code == 400 and ids[0] in r.json()["detail"]
    r = await restore(api, sid, unknownOption=True)
    assert r.status_code == 400
    r = await restore(api, "00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = await restore(api, "nonsense")
    assert r.status_code == 404
    r = await api.post(f"/v1/snapshots/{sid}/restore?dryRun=true", json={"pvIds": []}, scope="read")
    assert r.status_code == 400


async def test_auth_matrix(api: Api, rioc: RestoreIOC) -> None:
    ids = await register(api, {"setpointAddress": rioc.name("a")})
    sid = await snapshot(api, ids)
    assert (await api.post(f"/v1/snapshots/{sid}/restore?dryRun=true", json={}, scope=None)).status_code == 401
    assert (await api.post(f"/v1/snapshots/{sid}/restore?dryRun=true", scope="read")).status_code == 200
    for scope in ("read", "write"):
        r = await restore(api, sid, scope=scope)
        assert r.status_code == 403 and "restore" in r.json()["detail"], (scope, r.text)
    r = await restore(api, sid, scope="restore", backup=False)
    assert r.status_code == 202
    assert (await wait_job(api, r.json()["jobId"], timeout=60.0))["status"] == "completed"


async def test_one_restore_at_a_time(api: Api, rioc: RestoreIOC) -> None:
    ids = await register(api, {"setpointAddress": rioc.name("slow")})
    sid = await snapshot(api, ids)
    first = await restore(api, sid, backup=False)
    assert first.status_code == 202
    job_id = first.json()["jobId"]
    second = await restore(api, sid, backup=False)
    assert second.status_code == 409, second.text
    assert second.json()["jobId"] == job_id
    assert (await wait_job(api, job_id, timeout=60.0))["status"] == "completed"
    third = await restore(api, sid, backup=False)
    assert third.status_code == 202
    await wait_job(api, third.json()["jobId"], timeout=60.0)

    audit = (await api.get("/v1/audit?action=snapshot.restore.finish", scope="admin")).json()
    entries = audit["results"] if isinstance(audit, dict) else audit
    assert any(job_id in e["summary"] for e in entries)


async def test_ioc_dying_mid_restore(api: Api, rioc: RestoreIOC, dying_ioc: RestoreIOC) -> None:
    slow, alive, doomed = rioc.name("slow"), rioc.name("b"), dying_ioc.name("a")
    await caput([(slow, 1.0), (alive, 1.0), (doomed, 1.0)])
    ids = await register(
        api,
        {"setpointAddress": slow, "restoreOrder": 0},
        {"setpointAddress": alive, "restoreOrder": 1},
        {"setpointAddress": doomed, "restoreOrder": 1},
    )
    sid = await snapshot(api, ids)
    await caput([(slow, 2.0), (alive, 2.0), (doomed, 2.0)])

    r = await restore(api, sid, backup=False)
    assert r.status_code == 202
    job_id = r.json()["jobId"]
    deadline = time.monotonic() + SLOW_PUT + 10
    while time.monotonic() < deadline:
        job = (await api.get(f"/v1/jobs/{job_id}", scope="read")).json()
        if "stage 1/2" in job["message"]:
            break
        await asyncio.sleep(0.05)
    dying_ioc.stop()  # while stage 1's slow put is in flight
    job = await wait_job(api, job_id, timeout=60.0)
    assert job["status"] == "failed", job
    got = outcomes(job["result"])
    assert got[slow] == "written" and got[alive] == "written"
    assert got[doomed] in ("disconnected", "timeout"), job["result"]
    assert job["error"] == f"1 of 3 PVs not restored: 1 {got[doomed]}"
    assert job["result"]["failureCount"] == 1
    assert await caget(slow, alive) == {slow: 1.0, alive: 1.0}


async def test_cancel_between_stages(api: Api, rioc: RestoreIOC) -> None:
    slow, later = rioc.name("slow"), rioc.name("a")
    await caput([(slow, 1.0), (later, 1.0)])
    ids = await register(
        api, {"setpointAddress": slow, "restoreOrder": 0}, {"setpointAddress": later, "restoreOrder": 1}
    )
    sid = await snapshot(api, ids)
    await caput([(slow, 2.0), (later, 2.0)])
    r = await restore(api, sid, backup=False)
    job_id = r.json()["jobId"]
    deadline = time.monotonic() + SLOW_PUT + 10
    while time.monotonic() < deadline:
        if "stage 1/2" in (await api.get(f"/v1/jobs/{job_id}", scope="read")).json()["message"]:
            break
        await asyncio.sleep(0.05)
    assert (await api.delete(f"/v1/jobs/{job_id}", scope="write")).status_code == 403
    assert (await api.delete(f"/v1/jobs/{job_id}", scope="restore")).status_code == 200
    deadline = time.monotonic() + SLOW_PUT + 10
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = (await api.get(f"/v1/jobs/{job_id}", scope="read")).json()
        if job["status"] == "cancelled" and job.get("result"):
            break
        await asyncio.sleep(0.1)
    assert job["status"] == "cancelled" and job["result"], job
    assert outcomes(job["result"]) == {slow: "written", later: "cancelled"}
    assert (await caget(later))[later] == 2.0
    # The lock is free again once the cancelled job ended.
    again = await restore(api, sid, backup=False)
    assert again.status_code == 202
    await wait_job(api, again.json()["jobId"], timeout=60.0)
