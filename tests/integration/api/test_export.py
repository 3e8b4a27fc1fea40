"""Export (CSV with the Phoebus columns, JSON) and import of the JSON form: the round trip is exact."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.conftest import Api
from tests.support.snapshots import WORKER, create_pvs, fill_kinds


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
    # The snapshot it was exported from is here: importing it would silently make a second one.
    r = await api.post("/v1/snapshots/import", content=r.content, headers={"content-type": "application/json"})
    assert r.status_code == 409 and r.json()["existingId"] == sid, r.text
    assert r.json()["detail"].startswith(f"this file is the export of snapshot {sid} ('rt', ")
    anonymous = {**exported, "snapshot": {k: v for k, v in exported["snapshot"].items() if k != "id"}}
    r = await api.post("/v1/snapshots/import", json=anonymous)  # no id: the same title and values say it
    assert r.status_code == 409 and r.json()["existingId"] == sid and "same title, time and values" in r.text
    r = await api.post("/v1/snapshots/import?title=rt%20copy", json=anonymous)  # a deliberate copy
    assert r.status_code == 201, r.text
    imported = r.json()
    assert imported["source"] == "import" and imported["pvCount"] == 9 and imported["title"] == "rt copy"
    again = (await api.get(f"/v1/snapshots/{imported['id']}/export?format=json")).json()
    assert again["values"] == exported["values"]
    assert again["values"][0]["setpoint"]["value"] == "NaN"
    assert again["snapshot"]["comment"] == "c" and again["snapshot"]["labels"] == ["a"]
    original = (await api.get(f"/v1/snapshots/{sid}")).json()["pvValues"]
    copied = (await api.get(f"/v1/snapshots/{imported['id']}")).json()["pvValues"]
    assert [v["setpointValue"] for v in copied] == [v["setpointValue"] for v in original]
    assert (await api.get(f"/v1/snapshots/{sid}/compare/{imported['id']}")).json()["differenceCount"] == 0
    r = await api.post("/v1/snapshots/import?title=rt%20copy", json=anonymous)
    assert r.status_code == 409 and r.json()["existingId"] == imported["id"]
    # A deleted snapshot comes back from its export, once.
    assert (await api.delete(f"/v1/snapshots/{sid}")).status_code == 200
    r = await api.post("/v1/snapshots/import", json=exported)
    assert r.status_code == 201 and r.json()["title"] == "rt", r.text
    restored = r.json()["id"]
    r = await api.post("/v1/snapshots/import", json=exported)
    assert r.status_code == 409 and r.json()["existingId"] == restored
    assert r.json()["detail"].startswith(f"this file was already imported as snapshot {restored}")


async def test_csv_round_trip_keeps_every_value_the_csv_carries(api: Api) -> None:
    pvs = await create_pvs(api, 9)
    fill_kinds(api.client.app.state.ctx.cache, pvs)
    sid = (await api.post("/v1/snapshots?async=false", json={"title": "csv rt"})).json()["id"]
    r = await api.get(f"/v1/snapshots/{sid}/export?format=csv")
    exported = r.content
    csv_headers = {"content-type": "text/csv"}
    r = await api.post("/v1/snapshots/import", content=exported, headers=csv_headers)  # title 'Imported CSV'
    assert r.status_code == 201, r.text
    imported = r.json()
    assert imported["title"] == "Imported CSV" and imported["pvCount"] == 9 and imported["source"] == "import"
    assert (await api.get(f"/v1/snapshots/{imported['id']}/export?format=csv")).content == exported
    # Same values, enum indexes (from the monitor's labels), NaN/Infinity, strings, arrays; same PV ids.
    assert (await api.get(f"/v1/snapshots/{sid}/compare/{imported['id']}")).json()["differenceCount"] == 0
    original = (await api.get(f"/v1/snapshots/{sid}")).json()["pvValues"]
    copied = (await api.get(f"/v1/snapshots/{imported['id']}")).json()["pvValues"]
    keys = ("value", "type", "enumIndex", "status", "severity", "timestamp")
    for a, b in zip(original, copied, strict=True):
        assert a["pvId"] == b["pvId"] and a["readbackName"] == b["readbackName"]
        for side in ("setpointValue", "readbackValue"):
            assert {k: a[side].get(k) for k in keys} == {k: b[side].get(k) for k in keys}, (a, b)
    assert copied[3]["setpointValue"]["value"] == "Closed" and copied[3]["setpointValue"]["enumIndex"] == 1
    assert copied[4]["setpointValue"] == {**copied[4]["setpointValue"], "value": "NaN", "type": "string"}
    # The same file again, or the snapshot's own title and values, or its JSON export: 409 naming it.
    r = await api.post("/v1/snapshots/import", content=exported, headers=csv_headers)
    assert r.status_code == 409 and r.json()["existingId"] == imported["id"], r.text
    r = await api.post("/v1/snapshots/import?title=csv%20rt", content=exported, headers=csv_headers)
    assert r.status_code == 409 and r.json()["existingId"] == sid and "same title, time and values" in r.text
    doc = (await api.get(f"/v1/snapshots/{sid}/export?format=json")).json()
    doc["snapshot"].pop("id")
    r = await api.post("/v1/snapshots/import?title=Imported%20CSV", json=doc)
    assert r.status_code == 409 and r.json()["existingId"] == imported["id"]
    r = await api.post("/v1/snapshots/import?title=third", content=exported)  # no content type: sniffed
    assert r.status_code == 201 and r.json()["title"] == "third"


async def test_csv_import_of_addresses_outside_the_registry_and_readback_only_rows(api: Api) -> None:
    text = (
        "PV,SELECTED,TIMESTAMP,STATUS,SEVERITY,VALUE_TYPE,VALUE,READBACK,READBACK_VALUE,DELTA,READ_ONLY\n"
        "X:RB,1,2024-01-02 03:04:05.000000007,HIHI,MAJOR,DOUBLE,,X:RB,-Infinity,,false\n"
        'X:SP,1,2024-01-02 03:04:05,NO_ALARM,NO_ALARM,LONG_ARRAY,"[1, 2, 3]",,,,false\n'
        "X:TXT,1,,UDF,INVALID,STRING,,,,,false\n"
    )
    headers = {"content-type": "text/csv; charset=utf-8"}
    r = await api.post("/v1/snapshots/import?title=foreign", content=text.encode(), headers=headers)
    assert r.status_code == 201, r.text
    values = {v["pvName"]: v for v in (await api.get(f"/v1/snapshots/{r.json()['id']}")).json()["pvValues"]}
    rb = values["X:RB"]
    assert rb["setpointName"] is None and rb["setpointValue"] is None
    assert rb["readbackValue"]["value"] == "-Infinity" and rb["readbackValue"]["status"] == "HIHI"
    assert rb["readbackValue"]["severity"] == 2 and rb["readbackValue"]["timestampNs"] == 1704164645000000007
    assert values["X:SP"]["setpointValue"]["value"] == [1, 2, 3] and values["X:SP"]["readbackName"] is None
    assert values["X:TXT"]["setpointValue"]["value"] is None and values["X:TXT"]["setpointValue"]["connected"] is False
    again = await api.post("/v1/snapshots/import?title=foreign2", content=text.encode(), headers=headers)
    ids = {v["pvName"]: v["pvId"] for v in (await api.get(f"/v1/snapshots/{again.json()['id']}")).json()["pvValues"]}
    assert ids == {name: v["pvId"] for name, v in values.items()}  # stable ids: two imports compare PV by PV


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
    r = await api.post("/v1/snapshots/import", content=b"<xml/>", headers={"content-type": "application/xml"})
    assert r.status_code == 415 and "text/csv" in r.json()["detail"]
    csv_headers = {"content-type": "text/csv"}
    for body, needle in (
        (b"Setpoint,Readback\nA,B\n", "lacks PV, VALUE_TYPE, VALUE"),
        (b"PV,VALUE_TYPE,VALUE\nA,DOUBLE,abc\n", "line 2: VALUE 'abc' is not a double value"),
        (b"PV,VALUE_TYPE,VALUE\nA,QUATERNION,1\n", "line 2: VALUE_TYPE 'QUATERNION'"),
        (b"PV,VALUE_TYPE,VALUE\nA,DOUBLE,1\nA,DOUBLE,2\n", "line 3: PV 'A' appears twice (first on line 2)"),
        (b"PV,VALUE_TYPE,VALUE,TIMESTAMP\nA,DOUBLE,1,yesterday\n", "line 2: TIMESTAMP 'yesterday'"),
        (b"PV,VALUE_TYPE,VALUE\nA,DOUBLE_ARRAY,1.5\n", "an array is written [a, b, c]"),
        (b'PV,VALUE_TYPE,VALUE\nA,DOUBLE,"1\n', "line 2"),
    ):
        r = await api.post("/v1/snapshots/import", content=body, headers=csv_headers)
        assert r.status_code == 400 and needle in r.json()["detail"], (body, r.text)
    assert (await api.get("/v1/snapshots/nope/export")).status_code == 404
    assert (await api.get(f"/v1/snapshots/{pid}/export?format=xml")).status_code == 400
