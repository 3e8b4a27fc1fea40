"""Export (CSV with the Phoebus columns, JSON) and import of the JSON form: the round trip is exact."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.conftest import Api
from tests.integration.snapshot_support import WORKER, create_pvs, fill_kinds


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(WORKER)


async def test_json_round_trip_is_exact(api: Api) -> None:
    pvs = await create_pvs(api, 9)
    fill_kinds(api.client.app.state.ctx.cache, pvs)
    sid = (await api.post("/v1/snapshots?async=false", json={"title": "rt", "comment": "c", "labels": ["a"]})).json()[
        "id"
    ]
    r = await api.get(f"/v1/snapshots/{sid}/export?format=json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    exported = r.json()
    assert exported["format"] == "squirrel-snapshot/1" and len(exported["values"]) == 9
    r = await api.post("/v1/snapshots/import", content=r.content, headers={"content-type": "application/json"})
    assert r.status_code == 201, r.text
    imported = r.json()
    assert imported["source"] == "import" and imported["pvCount"] == 9 and imported["title"] == "rt"
    again = (await api.get(f"/v1/snapshots/{imported['id']}/export?format=json")).json()
    assert again["values"] == exported["values"]
    assert again["values"][0]["setpoint"]["value"] == "NaN"
    assert again["snapshot"]["comment"] == "c" and again["snapshot"]["labels"] == ["a"]
    original = (await api.get(f"/v1/snapshots/{sid}")).json()["pvValues"]
    copied = (await api.get(f"/v1/snapshots/{imported['id']}")).json()["pvValues"]
    assert [v["setpointValue"] for v in copied] == [v["setpointValue"] for v in original]
    assert (await api.get(f"/v1/snapshots/{sid}/compare/{imported['id']}")).json()["differenceCount"] == 0


async def test_csv_has_phoebus_columns(api: Api) -> None:
    pvs = await create_pvs(api, 8)
    fill_kinds(api.client.app.state.ctx.cache, pvs)
    await api.put(f"/v1/pvs/{pvs[6]['id']}", json={"readOnly": True})
    sid = (await api.post("/v1/snapshots?async=false", json={"title": "csv"})).json()["id"]
    r = await api.get(f"/v1/snapshots/{sid}/export?format=csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == [
        "PV", "SELECTED", "TIMESTAMP", "STATUS", "SEVERITY", "VALUE_TYPE", "VALUE",
        "READBACK", "READBACK_VALUE", "DELTA", "READ_ONLY",
    ]  # fmt: skip
    assert (
        rows[0]["PV"] == pvs[0]["setpointAddress"] and rows[0]["VALUE"] == "NaN" and rows[0]["VALUE_TYPE"] == "DOUBLE"
    )
    assert rows[0]["TIMESTAMP"] == "2023-11-14 22:13:20.123456789" and rows[0]["SEVERITY"] == "NO_ALARM"
    assert rows[3]["VALUE"] == "Closed" and rows[3]["VALUE_TYPE"] == "ENUM"
    assert rows[5]["VALUE"] == "[1.5, NaN, -Infinity]" and rows[5]["VALUE_TYPE"] == "DOUBLE_ARRAY"
    assert (
        rows[6]["READ_ONLY"] == "true"
        and rows[6]["DELTA"] == "0.0"
        and rows[6]["READBACK"] == pvs[6]["readbackAddress"]
    )


async def test_import_and_export_bad_input(api: Api) -> None:
    headers = {"content-type": "application/json"}
    r = await api.post("/v1/snapshots/import", content=b"{nope", headers=headers)
    assert r.status_code == 400 and "JSON" in r.json()["detail"]
    r = await api.post("/v1/snapshots/import", json={"format": "other", "snapshot": {"title": "x"}, "values": []})
    assert r.status_code == 400 and "format" in r.json()["detail"]
    r = await api.post(
        "/v1/snapshots/import", json={"format": "squirrel-snapshot/1", "snapshot": {"title": ""}, "values": []}
    )
    assert r.status_code == 400 and "title" in r.json()["detail"]
    pid = "00000000-0000-4000-8000-000000000009"
    dup = [{"pvId": pid, "setpointName": "A"}, {"pvId": pid, "setpointName": "B"}]
    r = await api.post(
        "/v1/snapshots/import", json={"format": "squirrel-snapshot/1", "snapshot": {"title": "d"}, "values": dup}
    )
    assert r.status_code == 400 and "twice" in r.json()["detail"]
    r = await api.post("/v1/snapshots/import", scope="read", json={})
    assert r.status_code == 403
    assert (await api.get("/v1/snapshots/nope/export")).status_code == 404
    assert (await api.get(f"/v1/snapshots/{pid}/export?format=xml")).status_code == 400
