"""GET /v1/snapshots/{id} filters (q, devices, tags, onlyMissing, differentFromLive) run on the server,
matchedCount counts what they selected, limit/offset page it; POST /v1/pvs/import?validateOnly=true."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.support.snapshots import create_pvs, fill_kinds, put_value


def _cache(api: Api) -> Any:
    return api.client.app.state.ctx.cache


async def _tag(api: Api) -> str:
    group = (await api.post("/v1/tags", json={"name": "area"})).json()
    r = await api.post(f"/v1/tags/{group['id']}/tags", json={"name": "linac"})
    body = r.json()
    return str(body["group"]["tags"][0]["id"] if "group" in body else body["tags"][0]["id"])


async def test_filters_select_count_and_page(api: Api) -> None:
    tag_id = await _tag(api)
    tagged = await create_pvs(api, 3, prefix="TAG", tags=[tag_id])
    plain = await create_pvs(api, 5, prefix="PLAIN")
    r = await api.put(f"/v1/pvs/{plain[1]['id']}", json={"device": "magnet_1"})
    assert r.status_code == 200, r.text
    cache = _cache(api)
    fill_kinds(cache, plain[:4])
    fill_kinds(cache, tagged)
    put_value(cache, plain[4]["setpointAddress"], None, connected=False)  # saved without a value
    snap = (await api.post("/v1/snapshots?async=false", json={"title": "filters"})).json()
    url = f"/v1/snapshots/{snap['id']}"

    whole = (await api.get(url)).json()
    assert whole["matchedCount"] == 8 and len(whole["pvValues"]) == 8

    # q: literal, case-insensitive substring of either address; '_' is no wildcard.
    by_q = (await api.get(f"{url}?q=plain:0000")).json()
    assert by_q["matchedCount"] == 5 and by_q["pvValues"][0]["pvName"] == "PLAIN:00000:SP"
    assert (await api.get(f"{url}?q=00001:RB")).json()["matchedCount"] == 2
    assert (await api.get(f"{url}?q=PLAIN_")).json()["matchedCount"] == 0

    page = (await api.get(f"{url}?q=PLAIN&limit=2&offset=2")).json()
    assert page["matchedCount"] == 5 and [v["pvName"] for v in page["pvValues"]] == ["PLAIN:00002:SP", "PLAIN:00003:SP"]

    past_end = (await api.get(f"{url}?q=PLAIN&limit=2&offset=10")).json()
    assert past_end["matchedCount"] == 5 and past_end["pvValues"] == []
    missing_page = (await api.get(f"{url}?q=PLAIN&onlyMissing=true&offset=1")).json()
    assert missing_page["matchedCount"] == 1 and missing_page["pvValues"] == []

    by_tag = (await api.get(f"{url}?tags={tag_id}")).json()
    assert by_tag["matchedCount"] == 3 and {v["pvId"] for v in by_tag["pvValues"]} == {p["id"] for p in tagged}
    assert by_tag["pvValues"][0]["tags"][0]["name"] == "linac"
    by_device = (await api.get(f"{url}?devices=magnet_1&devices=nothing")).json()
    assert [v["pvId"] for v in by_device["pvValues"]] == [plain[1]["id"]]

    missing = (await api.get(f"{url}?onlyMissing=true")).json()
    assert [v["pvId"] for v in missing["pvValues"]] == [plain[4]["id"]] and missing["matchedCount"] == 1

    # Live moves on for one PV (beyond its zero tolerance): only it differs from live.
    assert (await api.get(f"{url}?differentFromLive=true&q=TAG")).json()["matchedCount"] == 0
    put_value(cache, tagged[2]["setpointAddress"], 123.5)
    live = (await api.get(f"{url}?differentFromLive=true&q=TAG")).json()
    assert [v["pvId"] for v in live["pvValues"]] == [tagged[2]["id"]] and live["matchedCount"] == 1
    # Within a tolerance set on the PV it is no longer different.
    await api.put(f"/v1/pvs/{tagged[2]['id']}", json={"absTolerance": 1000})
    assert (await api.get(f"{url}?differentFromLive=true&q=TAG")).json()["matchedCount"] == 0


async def test_filter_input_is_checked(api: Api) -> None:
    await create_pvs(api, 1)
    snap = (await api.post("/v1/snapshots?async=false", json={"title": "x"})).json()
    url = f"/v1/snapshots/{snap['id']}"
    assert (await api.get(f"{url}?tags=nope")).status_code == 400
    assert (await api.get(f"{url}?onlyMissing=yes")).status_code == 400
    r = await api.get("/v1/snapshots/00000000-0000-0000-0000-000000000000?q=x")
    assert r.status_code == 404


async def test_import_validate_only_reports_every_row_and_writes_nothing(api: Api) -> None:
    await create_pvs(api, 1, prefix="OLD")
    csv = (
        "Setpoint,Readback,Device,Description,Area\n"
        "NEW:1:SP,NEW:1:RB,dev,ok,linac\n"
        "OLD:00000:SP,,,,\n"
        "NEW:1:SP,,,,\n"
        "NEW:2:SP,,,,,surplus\n"
        f"NEW:3:SP,,,{'d' * 10_001},\n"
    )
    r = await api.post("/v1/pvs/import?validateOnly=true", content=csv.encode(), headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["valid"] is False and body["rowCount"] == 5 and body["errorCount"] == 4
    lines = [e["line"] for e in body["errors"]]
    assert lines == [3, 4, 5, 6]
    details = [e["detail"] for e in body["errors"]]
    assert "already exists" in details[0] and "duplicate" in details[1] and "fields" in details[2]
    assert "description" in details[3]
    # Nothing was written: neither PVs nor the tag group.
    assert (await api.get("/v1/pvs?pvName=NEW")).json() == []
    assert [g["name"] for g in (await api.get("/v1/tags")).json()] == []

    good = "Setpoint,Area\nNEW:9:SP,linac\n"
    r = await api.post("/v1/pvs/import?validateOnly=true", content=good.encode(), headers={"content-type": "text/csv"})
    assert r.json() == {"valid": True, "rowCount": 1, "errorCount": 0, "errors": []}
    assert (await api.get("/v1/pvs?pvName=NEW")).json() == []
    r = await api.post("/v1/pvs/import", content=good.encode(), headers={"content-type": "text/csv"})
    assert r.status_code == 201 and r.json()["createdCount"] == 1


async def test_rows_carry_the_tolerances_differentFromLive_applies(api: Api) -> None:
    """Each row has its PV's absTolerance/relTolerance (0 for an exact PV), filtered or not, paged or not:
    the console marks a live value with exactly the band the filter uses."""
    pvs = await create_pvs(api, 3, prefix="TOL")
    await api.put(f"/v1/pvs/{pvs[0]['id']}", json={"absTolerance": 0.5})
    await api.put(f"/v1/pvs/{pvs[1]['id']}", json={"relTolerance": 0.1})
    cache = _cache(api)
    for pv in pvs:
        put_value(cache, pv["setpointAddress"], 100.0)
        put_value(cache, pv["readbackAddress"], 100.0)
    snap = (await api.post("/v1/snapshots?async=false", json={"title": "tolerances"})).json()
    url = f"/v1/snapshots/{snap['id']}"
    expected = {pvs[0]["id"]: (0.5, 0.0), pvs[1]["id"]: (0.0, 0.1), pvs[2]["id"]: (0.0, 0.0)}

    def carried(body: dict[str, Any]) -> dict[str, tuple[float, float]]:
        return {v["pvId"]: (v["absTolerance"], v["relTolerance"]) for v in body["pvValues"]}

    assert carried((await api.get(url)).json()) == expected
    assert carried((await api.get(f"{url}?limit=1&offset=1")).json()) == {pvs[1]["id"]: (0.0, 0.1)}
    assert carried((await api.get(f"{url}?q=TOL:00000")).json()) == {pvs[0]["id"]: (0.5, 0.0)}
    # Inside the band of the first two, outside the exact third: the filter keeps the third only.
    put_value(cache, pvs[0]["setpointAddress"], 100.5)
    put_value(cache, pvs[1]["setpointAddress"], 110.0)
    put_value(cache, pvs[2]["setpointAddress"], 100.001)
    live = (await api.get(f"{url}?differentFromLive=true")).json()
    assert carried(live) == {pvs[2]["id"]: (0.0, 0.0)}
    # Just outside the bands: all three, each row with the tolerance that put it there.
    put_value(cache, pvs[0]["setpointAddress"], 100.5000001)
    put_value(cache, pvs[1]["setpointAddress"], 110.0001)
    assert carried((await api.get(f"{url}?differentFromLive=true")).json()) == expected
    assert carried((await api.get(f"{url}?differentFromLive=true&limit=1&offset=2")).json()) == {
        pvs[2]["id"]: (0.0, 0.0)
    }
