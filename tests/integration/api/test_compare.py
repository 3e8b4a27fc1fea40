"""Compare snapshot ↔ snapshot and snapshot ↔ live over HTTP (values from the cache)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.conftest import Api
from tests.support.snapshots import WORKER, create_pvs, fill_kinds, put_value


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(WORKER)


async def _inline(api: Api, title: str) -> str:
    r = await api.post("/v1/snapshots?async=false", json={"title": title})
    assert r.status_code == 201, r.text
    sid: str = r.json()["id"]
    return sid


async def test_compare_two_snapshots_and_live(api: Api) -> None:
    cache = api.client.app.state.ctx.cache
    pvs = await create_pvs(api, 10)
    fill_kinds(cache, pvs)
    first = await _inline(api, "before")
    assert (await api.get(f"/v1/snapshots/{first}/compare/{first}")).json()["differenceCount"] == 0
    put_value(cache, pvs[2]["setpointAddress"], 0.1 + 0.2 + 1e-9)  # within 1e-6 absolute
    put_value(cache, pvs[3]["setpointAddress"], "Open", "enum", enum_index=0, enum_strings=["Open", "Closed"])
    put_value(cache, pvs[5]["readbackAddress"], [1.5, math.nan], "double[]")  # shorter array
    put_value(cache, pvs[8]["setpointAddress"], 8.0, connected=False)
    second = await _inline(api, "after")
    r = await api.get(f"/v1/snapshots/{first}/compare/{second}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["snapshot1Id"] == first and body["snapshot2Id"] == second
    reasons = {d["pvName"]: d["reason"] for d in body["differences"]}
    assert reasons == {
        pvs[2]["setpointAddress"]: "setpoint",
        pvs[3]["setpointAddress"]: "setpoint",
        pvs[5]["setpointAddress"]: "readback",
    }
    # PV 8 kept its value while disconnected: between snapshots only values count.
    assert body["matchCount"] == 7 and body["differenceCount"] == 3
    assert [d["pvName"] for d in body["differences"]] == sorted(reasons)
    enum_diff = next(d for d in body["differences"] if d["pvName"] == pvs[3]["setpointAddress"])
    assert enum_diff["value1"] == "Closed" and enum_diff["value2"] == "Open" and enum_diff["withinTolerance"] is False
    loose = (await api.get(f"/v1/snapshots/{first}/compare/{second}?absTolerance=0.000001")).json()
    assert pvs[2]["setpointAddress"] not in {d["pvName"] for d in loose["differences"]}
    # A PV's own tolerance applies when the request gives none.
    await api.put(f"/v1/pvs/{pvs[2]['id']}", json={"absTolerance": 0.001})
    per_pv = (await api.get(f"/v1/snapshots/{first}/compare/{second}")).json()
    assert pvs[2]["setpointAddress"] not in {d["pvName"] for d in per_pv["differences"]}

    live = (await api.get(f"/v1/snapshots/{first}/compare/live")).json()
    assert live["snapshot2Id"] == "live"
    live_reasons = {d["pvName"]: d["reason"] for d in live["differences"]}
    assert live_reasons[pvs[8]["setpointAddress"]] == "disconnected"
    assert live_reasons[pvs[3]["setpointAddress"]] == "setpoint"
    assert pvs[0]["setpointAddress"] not in live_reasons  # NaN == NaN


async def test_compare_missing_pvs_and_bad_input(api: Api) -> None:
    cache = api.client.app.state.ctx.cache
    pvs = await create_pvs(api, 3)
    fill_kinds(cache, pvs)
    first = await _inline(api, "three")
    extra = await create_pvs(api, 1, prefix="EXTRA")
    put_value(cache, extra[0]["setpointAddress"], 1.0)
    await api.delete(f"/v1/pvs/{pvs[0]['id']}")
    second = await _inline(api, "changed set")
    body = (await api.get(f"/v1/snapshots/{first}/compare/{second}")).json()
    missing = {(d["pvName"], d["value1"] is None, d["value2"] is None) for d in body["differences"]}
    assert missing == {(pvs[0]["setpointAddress"], False, True), (extra[0]["setpointAddress"], True, False)}
    assert all(d["reason"] == "missing" for d in body["differences"])
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await api.get(f"/v1/snapshots/{first}/compare/{unknown}")).status_code == 404
    assert (await api.get(f"/v1/snapshots/bad/compare/{first}")).status_code == 404
    assert (await api.get(f"/v1/snapshots/{unknown}/compare/live")).status_code == 404
    r = await api.get(f"/v1/snapshots/{first}/compare/{second}?absTolerance=-1")
    assert r.status_code == 400 and "absTolerance" in r.json()["detail"]
    assert (await api.get(f"/v1/snapshots/{first}/compare/{second}?relTolerance=abc")).status_code == 400


async def test_compare_values_stored_differently_but_equal(api: Api) -> None:
    """Stored bytes differ, values are equal: these rows leave PostgreSQL and must still match."""
    cache = api.client.app.state.ctx.cache
    pvs = await create_pvs(api, 5)
    for i, pv in enumerate(pvs):
        put_value(cache, pv["setpointAddress"], float(i))
        put_value(cache, pv["readbackAddress"], float(i))
    enum = {"enum_strings": ["Open", "Closed"]}
    put_value(cache, pvs[0]["setpointAddress"], 5, "long")
    put_value(cache, pvs[1]["setpointAddress"], 0.0)
    put_value(cache, pvs[2]["setpointAddress"], "Open", "enum", enum_index=0, **enum)
    put_value(cache, pvs[3]["setpointAddress"], 7.0)
    first = await _inline(api, "before")
    put_value(cache, pvs[0]["setpointAddress"], 5.0, "long")
    put_value(cache, pvs[1]["setpointAddress"], -0.0)
    put_value(cache, pvs[2]["setpointAddress"], "OPEN", "enum", enum_index=0, **enum)  # relabelled, same state
    put_value(cache, pvs[3]["setpointAddress"], 7.5)
    second = await _inline(api, "after")
    body = (await api.get(f"/v1/snapshots/{first}/compare/{second}")).json()
    assert [(d["pvName"], d["reason"], d["value1"], d["value2"]) for d in body["differences"]] == [
        (pvs[3]["setpointAddress"], "setpoint", 7.0, 7.5)
    ]
    assert body["matchCount"] == 4 and body["differenceCount"] == 1
    loose = (await api.get(f"/v1/snapshots/{first}/compare/{second}?relTolerance=0.1")).json()
    assert loose["matchCount"] == 5 and loose["differences"] == []
