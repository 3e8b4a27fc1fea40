"""Snapshot create/read/list/update/delete over HTTP + real PostgreSQL, values from the live cache."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import Api
from tests.support.snapshots import WORKER, create_pvs, fill_kinds, put_value, snapshot, wait_job


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(WORKER)


def _ctx(api: Api) -> Any:
    return api.client.app.state.ctx


async def test_async_snapshot_from_cache_keeps_fidelity(api: Api) -> None:
    pvs = await create_pvs(api, 10)
    fill_kinds(_ctx(api).cache, pvs)
    job = await snapshot(api, "fidelity", description="d", labels=["nightly"])
    assert job["progress"] == 100 and job["type"] == "snapshot_create" and job["resultId"]
    assert "10 PVs" in job["message"] and job["startedAt"] and job["completedAt"]
    r = await api.get(f"/v1/snapshots/{job['resultId']}")
    assert r.status_code == 200, r.text
    snap = r.json()
    assert snap["pvCount"] == 10 and snap["source"] == "cache" and snap["createdBy"] == "test-admin"
    assert snap["labels"] == ["nightly"] and snap["description"] == "d"
    values = snap["pvValues"]
    assert [v["pvName"] for v in values] == [p["setpointAddress"] for p in pvs]
    sp = [v["setpointValue"] for v in values]
    assert sp[0]["value"] == "NaN" and sp[0]["type"] == "double" and sp[0]["units"] == "mm"
    assert sp[0]["precision"] == 3 and sp[0]["upper_ctrl_limit"] == 10.0 and sp[0]["lower_ctrl_limit"] == -10.0
    assert sp[1]["value"] == "Infinity"
    assert sp[2]["value"] == 0.1 + 0.2
    assert sp[3]["value"] == "Closed" and sp[3]["enumIndex"] == 1 and sp[3]["enum_strings"] == ["Open", "Closed"]
    assert sp[4]["value"] == "NaN" and sp[4]["type"] == "string"
    assert sp[5]["value"] == [1.5, "NaN", "-Infinity"] and sp[5]["type"] == "double[]"
    assert sp[6]["value"] == 42 and sp[6]["type"] == "long"
    assert sp[0]["timestampNs"] == 1_700_000_000_123_456_789
    assert sp[0]["timestamp"].startswith("2023-11-14T22:13:20.123456")
    assert sp[0]["connected"] is True and 0.4 < sp[0]["ageSeconds"] < 30
    assert values[0]["readbackValue"]["value"] == "NaN" and values[0]["readbackName"] == pvs[0]["readbackAddress"]
    assert values[0]["status"] == "NO_ALARM" and values[0]["severity"] == 0


async def test_inline_snapshot_and_subset_by_ids_and_tags(api: Api) -> None:
    group = (await api.post("/v1/tags", json={"name": "area"})).json()
    tag = (await api.post(f"/v1/tags/{group['id']}/tags", json={"name": "linac"})).json()
    tag_id = tag["group"]["tags"][0]["id"] if "group" in tag else tag["tags"][0]["id"]
    tagged = await create_pvs(api, 3, prefix="TAG", tags=[tag_id])
    plain = await create_pvs(api, 4, prefix="PLAIN")
    r = await api.post(
        "/v1/snapshots?async=false", json={"title": "subset", "pvIds": [plain[0]["id"]], "tags": [tag_id]}
    )
    assert r.status_code == 201, r.text
    summary = r.json()
    assert summary["pvCount"] == 4 and summary["source"] == "cache"
    values = (await api.get(f"/v1/snapshots/{summary['id']}")).json()["pvValues"]
    assert {v["pvId"] for v in values} == {plain[0]["id"], *(p["id"] for p in tagged)}
    # Nothing in the cache here (no monitor): values are recorded as not connected, not invented.
    assert all(v["setpointValue"]["connected"] is False and v["setpointValue"]["value"] is None for v in values)
    assert values[0]["tags"] == [] or values[0]["tags"][0]["name"] in ("linac",)
    everything = (await api.post("/v1/snapshots?async=false", json={"title": "all"})).json()
    assert everything["pvCount"] == 7
    listed = (await api.get(f"/v1/snapshots?tags={tag_id}")).json()
    assert [s["id"] for s in listed] == [everything["id"], summary["id"]]


async def test_list_newest_first_filters_and_paging(api: Api) -> None:
    pvs = await create_pvs(api, 5)
    fill_kinds(_ctx(api).cache, pvs)
    ids = []
    for i in range(3):
        r = await api.post("/v1/snapshots?async=false", json={"title": f"list-{i}", "labels": ["x"] if i == 1 else []})
        ids.append(r.json()["id"])
    listed = (await api.get("/v1/snapshots")).json()
    assert [s["id"] for s in listed] == ids[::-1]
    assert [s["id"] for s in (await api.get("/v1/snapshots?limit=1&offset=1")).json()] == [ids[1]]
    assert [s["id"] for s in (await api.get("/v1/snapshots?labels=x")).json()] == [ids[1]]
    assert [s["id"] for s in (await api.get("/v1/snapshots?title=LIST-2")).json()] == [ids[2]]
    page = (await api.get(f"/v1/snapshots/{ids[0]}?limit=2&offset=2")).json()
    assert page["pvCount"] == 5 and [v["pvName"] for v in page["pvValues"]] == [
        pvs[2]["setpointAddress"],
        pvs[3]["setpointAddress"],
    ]
    assert (await api.get("/v1/snapshots?limit=0")).status_code == 400
    assert (await api.get(f"/v1/snapshots/{ids[0]}?limit=5000")).status_code == 400


async def test_update_golden_and_delete(api: Api) -> None:
    await create_pvs(api, 2)
    sid = (await api.post("/v1/snapshots?async=false", json={"title": "g"})).json()["id"]
    r = await api.put(f"/v1/snapshots/{sid}", scope="write", json={"title": "renamed", "description": "new"})
    assert r.status_code == 200 and r.json()["title"] == "renamed" and r.json()["description"] == "new"
    r = await api.put(f"/v1/snapshots/{sid}", scope="write", json={"labels": ["golden"]})
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    r = await api.put(f"/v1/snapshots/{sid}", scope="admin", json={"labels": ["golden", "keep"]})
    assert r.status_code == 200 and r.json()["labels"] == ["golden", "keep"]
    r = await api.put(f"/v1/snapshots/{sid}", scope="write", json={"labels": ["keep"]})
    assert r.status_code == 403
    r = await api.put(f"/v1/snapshots/{sid}", scope="write", json={"labels": ["golden", "keep", "more"]})
    assert r.status_code == 200
    assert (await api.delete(f"/v1/snapshots/{sid}", scope="write")).status_code == 403
    r = await api.delete(f"/v1/snapshots/{sid}", scope="admin")
    assert r.status_code == 200 and r.json() == {"id": sid, "deleted": True}
    assert (await api.get(f"/v1/snapshots/{sid}")).status_code == 404
    async with _ctx(api).pool.connection() as conn:  # values go with their snapshot (no FK cascade)
        cur = await conn.execute("SELECT count(*) FROM snapshot_value WHERE snapshot_id = %s", (sid,))
        assert await cur.fetchone() == (0,)
    audit = (await api.get("/v1/audit?limit=50")).json()["results"]
    actions = {e["action"] for e in audit}
    assert {"snapshot.create", "snapshot.update", "snapshot.delete"} <= actions


async def test_history_is_immutable_when_pvs_change(api: Api) -> None:
    pvs = await create_pvs(api, 3)
    fill_kinds(_ctx(api).cache, pvs)
    sid = (await api.post("/v1/snapshots?async=false", json={"title": "h"})).json()["id"]
    before = (await api.get(f"/v1/snapshots/{sid}")).json()["pvValues"]
    r = await api.put(f"/v1/pvs/{pvs[0]['id']}", json={"setpointAddress": "RENAMED:SP"})
    assert r.status_code == 200, r.text
    assert (await api.delete(f"/v1/pvs/{pvs[1]['id']}")).status_code == 200
    after = (await api.get(f"/v1/snapshots/{sid}")).json()["pvValues"]
    assert [(v["pvId"], v["pvName"], v["setpointValue"]) for v in after] == [
        (v["pvId"], v["pvName"], v["setpointValue"]) for v in before
    ]


async def test_bad_input(api: Api) -> None:
    await create_pvs(api, 1)
    r = await api.post("/v1/snapshots", json={"title": "   "})
    assert r.status_code == 400 and "title" in r.json()["detail"]
    r = await api.post("/v1/snapshots", json={"title": "x", "pvIds": ["not-a-uuid"]})
    assert r.status_code == 400 and "pvIds" in r.json()["detail"]
    missing = "00000000-0000-4000-8000-000000000001"
    r = await api.post("/v1/snapshots", json={"title": "x", "pvIds": [missing]})
    assert r.status_code == 400 and missing in r.json()["detail"]
    r = await api.post("/v1/snapshots", json={"title": "x", "description": "d" * 10_001})
    assert r.status_code == 400 and "description" in r.json()["detail"]
    r = await api.post("/v1/snapshots", json={"title": "x", "description": "d" * 10_000_000})
    assert r.status_code == 413
    for url in ("/v1/snapshots/00000000-0000-4000-8000-000000000000", "/v1/snapshots/nope"):
        r = await api.get(url)
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert (await api.put("/v1/snapshots/nope", json={"title": "t"})).status_code == 404
    assert (await api.delete(f"/v1/snapshots/{missing}")).status_code == 404
    assert (await api.get("/v1/snapshots?tags=zzz")).status_code == 400
    r = await api.post("/v1/snapshots", scope="read", json={"title": "x"})
    assert r.status_code == 403


async def test_concurrent_creates(api: Api) -> None:
    pvs = await create_pvs(api, 20)
    fill_kinds(_ctx(api).cache, pvs)
    responses = await asyncio.gather(*(api.post("/v1/snapshots", json={"title": f"c{i}"}) for i in range(6)))
    assert all(r.status_code == 202 for r in responses)
    jobs = await asyncio.gather(*(wait_job(api, r.json()["jobId"]) for r in responses))
    assert all(j["status"] == "completed" for j in jobs)
    assert len({j["resultId"] for j in jobs}) == 6
    inline = await asyncio.gather(*(api.post("/v1/snapshots?async=false", json={"title": f"i{i}"}) for i in range(4)))
    assert all(r.status_code == 201 and r.json()["pvCount"] == 20 for r in inline)
    assert len((await api.get("/v1/snapshots")).json()) == 10


async def test_one_sided_pvs_keep_name_order_and_null_sides(api: Api) -> None:
    body = [
        {"setpointAddress": "M:SP"},
        {"readbackAddress": "A:RB"},
        {"setpointAddress": "Z:SP", "readbackAddress": "Z:RB"},
    ]
    assert (await api.post("/v1/pvs/multi", json=body)).status_code == 201
    cache = _ctx(api).cache
    for address, value in (("M:SP", 1.0), ("A:RB", 2.0), ("Z:SP", 3.0)):  # Z:RB is not monitored
        put_value(cache, address, value)
    sid = (await api.post("/v1/snapshots?async=false", json={"title": "sides"})).json()["id"]
    values = (await api.get(f"/v1/snapshots/{sid}")).json()["pvValues"]
    got = [(v["pvName"], v["setpointName"], v["readbackName"]) for v in values]
    assert got == [("A:RB", None, "A:RB"), ("M:SP", "M:SP", None), ("Z:SP", "Z:SP", "Z:RB")]
    assert values[0]["setpointValue"] is None and values[0]["readbackValue"]["value"] == 2.0
    assert values[1]["readbackValue"] is None and values[1]["setpointValue"]["value"] == 1.0
    assert values[2]["readbackValue"]["connected"] is False and values[2]["readbackValue"]["value"] is None
    page = (await api.get(f"/v1/snapshots/{sid}?limit=1&offset=1")).json()["pvValues"]
    assert [v["pvName"] for v in page] == ["M:SP"]
