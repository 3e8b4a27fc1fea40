"""A snapshot says what it holds: missing counts in create/get/list, job warnings, requireComplete, and a
selection naming unknown tags or PVs refused. Values come from the live cache (no monitor here)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.support.snapshots import WORKER, create_pvs, put_value, wait_job

STALE_MAX_AGE = 60.0
UNKNOWN = "00000000-0000-4000-8000-0000000000aa"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {**WORKER, "stale_max_age": STALE_MAX_AGE}


def _cache(api: Api) -> Any:
    return api.client.app.state.ctx.cache


async def _gappy_pvs(api: Api) -> list[dict[str, Any]]:
    """Six PVs: two complete, one stale (complete, old), one with a disconnected readback, one connected
    without a value, and one nobody monitors (not in the cache at all)."""
    pvs = await create_pvs(api, 6, prefix="GAP")
    cache = _cache(api)
    for pv in pvs[:2]:
        put_value(cache, pv["setpointAddress"], 1.0)
        put_value(cache, pv["readbackAddress"], 1.0)
    put_value(cache, pvs[2]["setpointAddress"], 2.0, age=STALE_MAX_AGE * 2)
    put_value(cache, pvs[2]["readbackAddress"], 2.0)
    put_value(cache, pvs[3]["setpointAddress"], 3.0)
    put_value(cache, pvs[3]["readbackAddress"], None, connected=False)
    for address in (pvs[4]["setpointAddress"], pvs[4]["readbackAddress"]):
        put_value(cache, address, None)
        cache.get(address).has_value = False  # connected, but its first value never came
    return pvs


EXPECTED = {"missingCount": 3, "missing": {"disconnected": 2, "noValue": 1, "stale": 1}}


def _counts(summary: dict[str, Any]) -> dict[str, Any]:
    return {"missingCount": summary["missingCount"], "missing": summary["missing"]}


async def test_missing_counts_in_create_get_and_list(api: Api) -> None:
    await _gappy_pvs(api)
    r = await api.post("/v1/snapshots?async=false", json={"title": "gaps"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["pvCount"] == 6 and _counts(created) == EXPECTED
    got = (await api.get(f"/v1/snapshots/{created['id']}")).json()
    assert _counts(got) == EXPECTED
    listed = (await api.get("/v1/snapshots")).json()
    assert [_counts(s) for s in listed] == [EXPECTED]
    by_name = {v["pvName"]: v for v in got["pvValues"]}
    assert by_name["GAP:00005:SP"]["setpointValue"]["connected"] is False  # unmonitored: no invented value
    assert by_name["GAP:00004:SP"]["setpointValue"]["value"] is None


async def test_job_of_an_incomplete_snapshot_completes_with_warnings_and_numbers(api: Api) -> None:
    await _gappy_pvs(api)
    r = await api.post("/v1/snapshots", json={"title": "gaps"})
    assert r.status_code == 202, r.text
    job = await wait_job(api, r.json()["jobId"])
    assert job["status"] == "completed", job
    assert "saved 6 PVs; 3 without a value: 2 disconnected, 1 no value; 1 stale" in job["message"], job
    assert job["warnings"] == [
        "3 of 6 PVs saved without a value: 2 disconnected, 1 no value",
        "1 of 6 PVs saved with a value older than 60 s (stale)",
    ]
    assert job["result"]["missingCount"] == 3 and job["result"]["missing"] == EXPECTED["missing"]
    assert _counts((await api.get(f"/v1/snapshots/{job['resultId']}")).json()) == EXPECTED
    again = (await api.get(f"/v1/jobs/{job['id']}")).json()  # stored, not only in the first answer
    assert again["warnings"] == job["warnings"]


async def test_a_complete_snapshot_has_no_warnings(api: Api) -> None:
    pvs = await create_pvs(api, 3, prefix="FULL")
    for pv in pvs:
        put_value(_cache(api), pv["setpointAddress"], 1.0)
        put_value(_cache(api), pv["readbackAddress"], 1.0)
    r = await api.post("/v1/snapshots?requireComplete=true", json={"title": "clean"})
    job = await wait_job(api, r.json()["jobId"])
    assert job["status"] == "completed" and job["warnings"] == [], job
    assert job["message"].endswith("saved 3 PVs"), job
    summary = (await api.get(f"/v1/snapshots/{job['resultId']}")).json()
    assert _counts(summary) == {"missingCount": 0, "missing": {"disconnected": 0, "noValue": 0, "stale": 0}}
    r = await api.post("/v1/snapshots?async=false&requireComplete=true", json={"title": "clean inline"})
    assert r.status_code == 201 and r.json()["missingCount"] == 0, r.text


async def test_require_complete_stores_nothing(api: Api) -> None:
    await _gappy_pvs(api)
    r = await api.post("/v1/snapshots?async=false&requireComplete=true", json={"title": "strict"})
    assert r.status_code == 409, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["missingCount"] == 3 and problem["missing"] == EXPECTED["missing"]
    assert "3 of 6 PVs without a value: 2 disconnected, 1 no value" in problem["detail"]

    r = await api.post("/v1/snapshots?requireComplete=true", json={"title": "strict job"})
    assert r.status_code == 202, r.text
    job = await wait_job(api, r.json()["jobId"])
    assert job["status"] == "failed" and job["resultId"] is None, job
    assert "3 of 6 PVs without a value: 2 disconnected, 1 no value" in job["error"], job
    assert (await api.get("/v1/snapshots")).json() == []
    r = await api.post("/v1/snapshots?requireComplete=maybe", json={"title": "x"})
    assert r.status_code == 400


async def test_unknown_tag_or_pv_ids_are_refused(api: Api) -> None:
    group = (await api.post("/v1/tags", json={"name": "area"})).json()
    tag = (await api.post(f"/v1/tags/{group['id']}/tags", json={"name": "linac"})).json()
    tag_id = tag["group"]["tags"][0]["id"] if "group" in tag else tag["tags"][0]["id"]
    pvs = await create_pvs(api, 2, prefix="SEL", tags=[tag_id])
    for url in ("/v1/snapshots", "/v1/snapshots?async=false"):
        r = await api.post(url, json={"title": "x", "tags": [tag_id, UNKNOWN]})
        assert r.status_code == 400 and UNKNOWN in r.json()["detail"] and "tags" in r.json()["detail"], r.text
        r = await api.post(url, json={"title": "x", "pvIds": [pvs[0]["id"], UNKNOWN]})
        assert r.status_code == 400 and UNKNOWN in r.json()["detail"] and "pvIds" in r.json()["detail"], r.text
    assert (await api.get("/v1/snapshots")).json() == []
    r = await api.post("/v1/snapshots?async=false", json={"title": "ok", "tags": [tag_id]})
    assert r.status_code == 201 and r.json()["pvCount"] == 2, r.text


async def test_an_imported_snapshot_counts_its_missing_values(api: Api) -> None:
    await _gappy_pvs(api)
    sid = (await api.post("/v1/snapshots?async=false", json={"title": "to import"})).json()["id"]
    exported = (await api.get(f"/v1/snapshots/{sid}/export?format=json")).content
    assert (await api.delete(f"/v1/snapshots/{sid}")).status_code == 200
    r = await api.post("/v1/snapshots/import", content=exported, headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    # Stale is a fact of capture time that an export does not carry; the gaps are in the values.
    expected = {"missingCount": 3, "missing": {"disconnected": 2, "noValue": 1, "stale": 0}}
    assert _counts(r.json()) == expected
    assert _counts((await api.get(f"/v1/snapshots/{r.json()['id']}")).json()) == expected
