"""PV registry routes over HTTP against the real app and PostgreSQL: the happy paths."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import psycopg

from tests.conftest import Api


async def make_group(api: Api, name: str, tags: list[str]) -> dict[str, Any]:
    r = await api.post("/v1/tags", json={"name": name})
    assert r.status_code == 201, r.text
    group = r.json()
    for tag in tags:
        r = await api.post(f"/v1/tags/{group['id']}/tags", json={"name": tag})
        assert r.status_code == 201, r.text
        group = r.json()["group"]
    return group


async def create_pv(api: Api, **fields: Any) -> dict[str, Any]:
    r = await api.post("/v1/pvs", json=fields, scope="write")
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_create_get_update_delete(api: Api) -> None:
    group = await make_group(api, "Area", ["LI22", "LI23"])
    li22, li23 = (t["id"] for t in group["tags"])
    pv = await create_pv(
        api,
        setpointAddress="  LI22:SP  ",
        readbackAddress="LI22:RB",
        device="mag1",
        description="a magnet",
        absTolerance=0.5,
        tags=[li22],
    )
    assert pv["setpointAddress"] == "LI22:SP"  # trimmed
    assert pv["restoreOrder"] == 0 and pv["putCompletion"] is True
    assert pv["createdBy"] == "test-write" and pv["lastModifiedBy"] == "test-write"
    assert pv["tags"] == [
        {"id": li22, "name": "LI22", "description": None, "groupId": group["id"], "groupName": "Area"}
    ]
    assert pv["createdDate"].endswith("Z")

    got = (await api.get(f"/v1/pvs/{pv['id']}", scope="read")).json()
    assert got == pv

    r = await api.put(
        f"/v1/pvs/{pv['id']}",
        json={
            "description": "moved",
            "tags": [li23],
            "restoreOrder": 2,
            "putCompletion": False,
            "readbackAddress": None,
        },
        scope="write",
    )
    assert r.status_code == 200, r.text
    upd = r.json()
    assert upd["description"] == "moved" and upd["restoreOrder"] == 2 and upd["putCompletion"] is False
    assert upd["readbackAddress"] is None and upd["setpointAddress"] == "LI22:SP"
    assert [t["id"] for t in upd["tags"]] == [li23]
    assert upd["absTolerance"] == 0.5  # absent fields are kept

    r = await api.put(f"/v1/pvs/{pv['id']}", json={"setpointAddress": "LI22:SP2"})
    assert r.status_code == 200 and r.json()["setpointAddress"] == "LI22:SP2"
    assert r.json()["lastModifiedBy"] == "test-admin"

    r = await api.delete(f"/v1/pvs/{pv['id']}", scope="write")
    assert r.status_code == 200 and r.json() == {"id": pv["id"], "deleted": True}
    assert (await api.get(f"/v1/pvs/{pv['id']}")).status_code == 404
    assert (await api.delete(f"/v1/pvs/{pv['id']}")).status_code == 404
    assert (await api.put(f"/v1/pvs/{pv['id']}", json={"description": "x"})).status_code == 404
    # The address is free again once deleted.
    await create_pv(api, setpointAddress="LI22:SP2")

    audit = (await api.get("/v1/audit?limit=100")).json()["results"]
    actions = {(e["action"], e["actor"]) for e in audit}
    assert {("pv.create", "test-write"), ("pv.update", "test-write"), ("pv.delete", "test-write")} <= actions


async def test_soft_delete_keeps_the_row(api: Api, database_url: str) -> None:
    pv = await create_pv(api, setpointAddress="KEEP:SP")
    assert (await api.delete(f"/v1/pvs/{pv['id']}")).status_code == 200
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute("SELECT deleted_at IS NOT NULL, updated_by FROM pv WHERE id = %s", (pv["id"],))
        assert await cur.fetchone() == (True, "test-admin")


async def test_registry_notify_is_sent(api: Api, database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as listener:
        await listener.execute("LISTEN squirrel_registry")
        pv = await create_pv(api, setpointAddress="NOTIFY:SP")
        gen = listener.notifies(timeout=5.0, stop_after=2)
        notes = [n async for n in gen]
    assert {n.channel for n in notes} == {"squirrel_registry"}
    # The row trigger names the created PV (the monitor applies it alone); the app's own hint is empty.
    assert sorted(n.payload for n in notes) == ["", f"ids:{pv['id']}"]


async def test_list_paged_search_devices(api: Api) -> None:
    area = await make_group(api, "Area", ["A", "B"])
    kind = await make_group(api, "Kind", ["mag", "rf"])
    a, b = (t["id"] for t in area["tags"])
    mag, rf = (t["id"] for t in kind["tags"])
    items = [
        {"setpointAddress": "X:1", "device": "d1", "tags": [a, mag]},
        {"setpointAddress": "X:2", "device": "d2", "tags": [b, mag]},
        {"setpointAddress": "X:3", "device": "d1", "tags": [a, rf], "description": "100% done"},
        {"setpointAddress": "Y_1", "readbackAddress": "Y_1:RB"},
        {"readbackAddress": "Z:RB only"},
    ]
    r = await api.post("/v1/pvs/multi", json=items, scope="write")
    assert r.status_code == 201, r.text
    assert len(r.json()) == 5

    names = [p["setpointAddress"] for p in (await api.get("/v1/pvs?pvName=x:", scope="read")).json()]
    assert names == ["X:1", "X:2", "X:3"]
    assert len((await api.get("/v1/pvs")).json()) == 5

    # Keyset pages of 2 walk the whole registry in setpoint order.
    seen: list[str | None] = []
    token = None
    for _ in range(5):
        url = "/v1/pvs/paged?pageSize=2" + (f"&continuationToken={token}" if token else "")
        page = (await api.get(url, scope="read")).json()
        assert page["totalCount"] == 5
        seen += [p["setpointAddress"] or p["readbackAddress"] for p in page["results"]]
        token = page["continuationToken"]
        if token is None:
            break
    assert seen == ["X:1", "X:2", "X:3", "Y_1", "Z:RB only"]

    # OR within a group, AND across groups.
    import json

    flt = json.dumps({area["id"]: [a, b], kind["id"]: [mag]})
    page = (await api.get("/v1/pvs/paged", params={"tagFilters": flt})).json()
    assert [p["setpointAddress"] for p in page["results"]] == ["X:1", "X:2"] and page["totalCount"] == 2
    flt = json.dumps({area["id"]: [a], kind["id"]: []})
    page = (await api.get("/v1/pvs/paged", params={"tagFilters": flt})).json()
    assert [p["setpointAddress"] for p in page["results"]] == ["X:1", "X:3"]

    # Search: text in addresses or description, devices, tags (OR), limit/offset.
    res = (await api.get("/v1/pvs/search", params={"q": "done"}, scope="read")).json()
    assert [p["setpointAddress"] for p in res["results"]] == ["X:3"] and res["totalCount"] == 1
    res = (await api.get("/v1/pvs/search", params={"devices": ["d1", "d2"], "limit": 2, "offset": 1})).json()
    assert [p["setpointAddress"] for p in res["results"]] == ["X:2", "X:3"]
    assert res["totalCount"] == 3 and res["limit"] == 2 and res["offset"] == 1
    assert res.get("liveValues") is None
    res = (await api.get("/v1/pvs/search", params={"tags": f"{b},{rf}"})).json()
    assert [p["setpointAddress"] for p in res["results"]] == ["X:2", "X:3"]
    res = (await api.get("/v1/pvs/search", params={"offset": 50})).json()
    assert res["results"] == [] and res["totalCount"] == 5

    assert (await api.get("/v1/pvs/devices", scope="read")).json() == ["d1", "d2"]


async def test_search_live_values_from_cache(api: Api) -> None:
    await create_pv(api, setpointAddress="LIVE:SP", readbackAddress="LIVE:RB")
    cache = api.client.app.state.ctx.cache
    state = cache.ensure("LIVE:SP")
    state.value, state.type, state.connected, state.status, state.severity = float("nan"), "double", True, "NO_ALARM", 0
    res = (await api.get("/v1/pvs/search?q=LIVE&include_live_values=true", scope="read")).json()
    live = res["liveValues"]
    assert live["LIVE:SP"]["value"] == "NaN" and live["LIVE:SP"]["connected"] is True
    assert live["LIVE:RB"] == {"connected": False, "error": "not monitored"}
    assert "monitor" in res["liveValuesError"]


async def test_percent_and_underscore_are_literal(api: Api) -> None:
    await api.post(
        "/v1/pvs/multi",
        json=[
            {"setpointAddress": "A_B", "description": "50% open"},
            {"setpointAddress": "AXB", "description": "50 percent open"},
        ],
    )
    res = (await api.get("/v1/pvs/search", params={"q": "A_B"})).json()
    assert [p["setpointAddress"] for p in res["results"]] == ["A_B"]
    res = (await api.get("/v1/pvs/search", params={"q": "50%"})).json()
    assert [p["setpointAddress"] for p in res["results"]] == ["A_B"]
    page = (await api.get("/v1/pvs/paged", params={"pvName": "a_b"})).json()
    assert [p["setpointAddress"] for p in page["results"]] == ["A_B"]
    assert (await api.get("/v1/pvs", params={"pvName": "%"})).json() == []
    assert (await api.get("/v1/pvs", params={"pvName": "\\"})).json() == []


async def test_import_csv_creates_tags_and_export_round_trips(api: Api) -> None:
    await make_group(api, "area", ["li22"])  # existing names are matched case-insensitively
    text = (
        "Setpoint,Readback,Device,Description,Area,Kind\n"
        "S:1,R:1,dev,first,LI22,mag;quad\n"
        "S:2,,dev,,LI23,\n"
        "\n"
        'S:3,R:3,,"with, comma","LI22, LI23",rf\n'
    )
    r = await api.post("/v1/pvs/import", content=text.encode(), headers={"content-type": "text/csv"}, scope="write")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["createdCount"] == 3 and body["groupsCreated"] == 1 and body["tagsCreated"] == 4
    groups = {g["name"]: g for g in (await api.get("/v1/tags")).json()}
    assert set(groups) == {"area", "Kind"} and groups["area"]["tagCount"] == 2 and groups["Kind"]["tagCount"] == 3
    pvs = {p["setpointAddress"]: p for p in (await api.get("/v1/pvs")).json()}
    assert sorted(t["name"] for t in pvs["S:1"]["tags"]) == ["li22", "mag", "quad"]
    assert pvs["S:2"]["readbackAddress"] is None and pvs["S:2"]["description"] is None
    assert pvs["S:3"]["description"] == "with, comma"

    r = await api.get("/v1/pvs/export?format=csv", scope="read")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["Setpoint"] for row in rows] == ["S:1", "S:2", "S:3"]
    assert set(rows[0]["Kind"].split(";")) == {"mag", "quad"} and set(rows[2]["area"].split(";")) == {"li22", "LI23"}

    exported = (await api.get("/v1/pvs/export?format=json")).json()
    assert [e["setpointAddress"] for e in exported] == ["S:1", "S:2", "S:3"]
    for pv in pvs.values():
        assert (await api.delete(f"/v1/pvs/{pv['id']}")).status_code == 200
    r = await api.post("/v1/pvs/multi", json=exported)
    assert r.status_code == 201, r.text
    again = {p["setpointAddress"]: p for p in r.json()}
    assert {t["id"] for t in again["S:1"]["tags"]} == {t["id"] for t in pvs["S:1"]["tags"]}
    assert (await api.get("/v1/pvs/export")).json() == exported  # JSON is the default


async def test_import_multipart(api: Api) -> None:
    files = {"file": ("pvs.csv", b"Setpoint\nM:1\nM:2\n", "text/csv")}
    r = await api.post("/v1/pvs/import", files=files)
    assert r.status_code == 201, r.text
    assert r.json()["createdCount"] == 2


async def test_snapshot_selection_and_monitored_addresses(api: Api, database_url: str) -> None:
    from squirrel.db.pvs import monitored_addresses, select_pvs_for_snapshot

    g = await make_group(api, "G", ["t"])
    tag = g["tags"][0]["id"]
    a = await create_pv(api, setpointAddress="S:A", readbackAddress="R:A", configAddress="C:A", tags=[tag])
    b = await create_pv(api, setpointAddress="S:B", restoreOrder=-1)
    c = await create_pv(api, readbackAddress="R:C")
    gone = await create_pv(api, setpointAddress="S:GONE", tags=[tag])
    await api.delete(f"/v1/pvs/{gone['id']}")
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        every = await select_pvs_for_snapshot(conn, None, None)
        assert [str(r["id"]) for r in every] == [b["id"], c["id"], a["id"]]  # restore order, then name
        assert set(every[0]) == {
            "id", "setpoint_address", "readback_address", "abs_tolerance", "rel_tolerance", "read_only",
            "restore_order", "put_completion",
        }  # fmt: skip
        by_tag = await select_pvs_for_snapshot(conn, None, [uuid.UUID(tag)])
        assert [str(r["id"]) for r in by_tag] == [a["id"]]
        union = await select_pvs_for_snapshot(conn, [uuid.UUID(c["id"]), uuid.UUID(gone["id"])], [uuid.UUID(tag)])
        assert {str(r["id"]) for r in union} == {a["id"], c["id"]}
        assert await select_pvs_for_snapshot(conn, [], None) == []
        assert await monitored_addresses(conn) == {"S:A", "R:A", "S:B", "R:C"}
