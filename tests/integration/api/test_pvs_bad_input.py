"""Bad input on the PV routes: each gets a precise 4xx problem, none a 500, and failed writes write nothing."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest

from tests.conftest import Api
from tests.support.problems import problem

JSON = {"content-type": "application/json"}


async def pv_count(api: Api) -> int:
    count: int = (await api.get("/v1/pvs/paged?pageSize=1")).json()["totalCount"]
    return count


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({}, "at least one of"),
        ({"setpointAddress": None, "readbackAddress": None}, "at least one of"),
        ({"setpointAddress": ""}, "setpointAddress must not be empty"),
        ({"setpointAddress": "   "}, "setpointAddress must not be empty"),
        ({"readbackAddress": "\t"}, "readbackAddress must not be empty"),
        ({"setpointAddress": "A" * 256}, "at most 255"),
        ({"configAddress": "C" * 300}, "configAddress must be at most 255"),
        ({"setpointAddress": "A", "device": "D" * 256}, "device must be at most 255"),
        ({"setpointAddress": "A", "description": "x" * 10_001}, "description must be at most 10000"),
        ({"setpointAddress": "A", "bogus": 1}, "bogus"),
        ({"setpointAddress": "A\u0000B"}, "NUL"),
        ({"setpointAddress": "A", "description": "x\u0000"}, "NUL"),
        ({"setpointAddress": 5}, "setpointAddress"),
        ({"setpointAddress": "A", "absTolerance": "big"}, "absTolerance"),
        ({"setpointAddress": "A", "absTolerance": -1}, "absTolerance"),
        ({"setpointAddress": "A", "readOnly": "yes"}, "readOnly"),
        ({"setpointAddress": "A", "restoreOrder": 1.5}, "restoreOrder"),
        ({"setpointAddress": "A", "tags": "t"}, "tags"),
        ({"setpointAddress": "A", "tags": ["not-a-uuid"]}, "tags"),
        ({"setpointAddress": "A", "tags": [str(uuid.uuid4())]}, "unknown tag id"),
        ([{"setpointAddress": "A"}], ""),
    ],
)
async def test_create_rejects(api: Api, body: Any, needle: str) -> None:
    problem(await api.post("/v1/pvs", json=body), 400, needle)
    assert await pv_count(api) == 0


async def test_address_exactly_255_is_fine(api: Api) -> None:
    r = await api.post("/v1/pvs", json={"setpointAddress": "A" * 255, "description": "x" * 10_000})
    assert r.status_code == 201


@pytest.mark.parametrize("route", ["/v1/pvs", "/v1/pvs/multi", "/v1/tags"])
async def test_malformed_json(api: Api, route: str) -> None:
    problem(await api.post(route, content=b'{"setpointAddress": "A",', headers=JSON), 400)
    problem(await api.post(route, content=b"\xff\xfe", headers=JSON), 400)


async def test_body_over_1mb_on_a_normal_route_is_413(api: Api) -> None:
    body = json.dumps({"setpointAddress": "A", "description": "x" * 1_100_000}).encode()
    problem(await api.post("/v1/pvs", content=body, headers=JSON), 413)


async def test_duplicate_against_db_is_409(api: Api) -> None:
    assert (await api.post("/v1/pvs", json={"setpointAddress": "DUP:1"})).status_code == 201
    problem(await api.post("/v1/pvs", json={"setpointAddress": " DUP:1 "}), 409, "'DUP:1' already exists")
    r = await api.post("/v1/pvs/multi", json=[{"setpointAddress": "NEW:1"}, {"setpointAddress": "DUP:1"}])
    problem(r, 409, "DUP:1")
    assert await pv_count(api) == 1  # NEW:1 was not written either


async def test_multi_all_or_nothing(api: Api) -> None:
    await api.post("/v1/pvs", json={"setpointAddress": "KEEP"})
    r = await api.post(
        "/v1/pvs/multi", json=[{"setpointAddress": "M:1"}, {"setpointAddress": "M:2"}, {"setpointAddress": "M:1"}]
    )
    problem(r, 400, "duplicate setpointAddress 'M:1'", "[0]", "[2]")
    r = await api.post("/v1/pvs/multi", json=[{"setpointAddress": "M:1"}, {"setpointAddress": ""}])
    problem(r, 400, "[1].setpointAddress")
    r = await api.post("/v1/pvs/multi", json=[{"setpointAddress": "M:1"}, {"setpointAddress": "M:2", "x": 1}])
    problem(r, 400, "x")
    r = await api.post("/v1/pvs/multi", json=[{"setpointAddress": "M:1", "tags": [str(uuid.uuid4())]}])
    problem(r, 400, "unknown tag id")
    problem(await api.post("/v1/pvs/multi", json={"setpointAddress": "M:1"}), 400)
    assert await pv_count(api) == 1
    r = await api.post("/v1/pvs/multi", json=[])
    assert r.status_code == 201 and r.json() == []


async def test_update_rejects(api: Api) -> None:
    a = (await api.post("/v1/pvs", json={"setpointAddress": "U:A", "readbackAddress": "U:RB"})).json()
    await api.post("/v1/pvs", json={"setpointAddress": "U:B"})
    url = f"/v1/pvs/{a['id']}"
    problem(await api.put(url, json={"setpointAddress": "U:B"}), 409, "U:B")
    problem(await api.put(url, json={"setpointAddress": None, "readbackAddress": None}), 400, "at least one")
    problem(await api.put(url, json={"readbackAddress": "  "}), 400, "readbackAddress")
    problem(await api.put(url, json={"tags": [str(uuid.uuid4())]}), 400, "unknown tag id")
    problem(await api.put(url, json={"tags": ["zzz"]}), 400, "tags")
    problem(await api.put(url, json={"id": a["id"]}), 400, "id")
    problem(await api.put(url, json={"relTolerance": -0.1}), 400, "relTolerance")
    problem(await api.put(url, content=b"[", headers=JSON), 400)
    assert (await api.get(url)).json() == a  # nothing changed


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("pv_id", ["not-a-uuid", "1234", str(uuid.uuid4())])
async def test_unknown_or_malformed_path_id_is_404(api: Api, method: str, pv_id: str) -> None:
    kw: dict[str, Any] = {"json": {"description": "x"}} if method == "PUT" else {}
    problem(await api.request(method, f"/v1/pvs/{pv_id}", **kw), 404, "not found")


@pytest.mark.parametrize("size", ["0", "-1", "100000", "1001", "abc"])
async def test_page_size_out_of_range(api: Api, size: str) -> None:
    problem(await api.get(f"/v1/pvs/paged?pageSize={size}"), 400, "pageSize")


@pytest.mark.parametrize("query", ["limit=0", "limit=-1", "limit=100000", "offset=-1", "include_live_values=maybe"])
async def test_search_paging_out_of_range(api: Api, query: str) -> None:
    problem(await api.get(f"/v1/pvs/search?{query}"), 400, query.split("=")[0])


@pytest.mark.parametrize(
    "token",
    [
        "garbage!!",
        "abc",
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(b'{"a": 1}').decode(),
        base64.urlsafe_b64encode(b'["X", "not-a-uuid"]').decode(),
    ],
)
async def test_corrupt_continuation_token(api: Api, token: str) -> None:
    problem(await api.get("/v1/pvs/paged", params={"continuationToken": token}), 400, "continuationToken")


@pytest.mark.parametrize(
    "filters",
    ["{", "[]", '{"g": ["t"]}', json.dumps({str(uuid.uuid4()): ["nope"]}), json.dumps({str(uuid.uuid4()): "x"})],
)
async def test_bad_tag_filters(api: Api, filters: str) -> None:
    problem(await api.get("/v1/pvs/paged", params={"tagFilters": filters}), 400, "tagFilters")


async def test_bad_tag_ids_in_search(api: Api) -> None:
    problem(await api.get("/v1/pvs/search", params={"tags": "nope"}), 400, "tags", "nope")
    r = await api.get("/v1/pvs/search", params={"tags": str(uuid.uuid4())})
    assert r.status_code == 200 and r.json()["totalCount"] == 0


async def test_export_format_is_checked(api: Api) -> None:
    problem(await api.get("/v1/pvs/export?format=xml"), 400, "format")


CSV = {"content-type": "text/csv"}


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("Setpt,Readback\nA,B\n", ["'Setpoint' column", "Setpt"]),
        ("Readback,Device\nA,B\n", ["'Setpoint' column"]),
        ("Setpoint,,Device\nA,,d\n", ["column 2 has no name"]),
        ("Setpoint,Area,area\nA,x,y\n", ["'area' appears twice"]),
        ("", ["empty"]),
        ("Setpoint,Readback\nA,B,C\n", ["line 2", "3 fields"]),
        ("Setpoint,Readback\nA,B\nA,C\n", ["duplicate setpointAddress 'A'", "line 2", "line 3"]),
        ("Setpoint,Readback,Device\n,\n  ,B\n,  ,d\n", ["line 4", "at least one"]),
        (f"Setpoint\n{'A' * 256}\n", ["line 2", "at most 255"]),
        ('Setpoint\n"unterminated\n', ["line"]),
        ("Setpoint,Area\nA," + "t" * 256 + "\n", ["line 2", "Area"]),
    ],
)
async def test_import_rejects(api: Api, text: str, needles: list[str]) -> None:
    problem(await api.post("/v1/pvs/import", content=text.encode(), headers=CSV), 400, *needles)
    assert await pv_count(api) == 0
    assert (await api.get("/v1/tags")).json() == []  # no tag group was created either


async def test_import_bad_encoding(api: Api) -> None:
    data = "Setpoint,Description\nA,caf\u00e9\n".encode("latin-1")
    problem(await api.post("/v1/pvs/import", content=data, headers=CSV), 400, "not valid UTF-8", "0xe9")
    problem(await api.post("/v1/pvs/import", content=b"Setpoint\nA\x00B\n", headers=CSV), 400, "NUL byte")
    utf16 = "Setpoint\nA\n".encode("utf-16")
    problem(await api.post("/v1/pvs/import", content=utf16, headers=CSV), 400, "UTF-8")
    assert await pv_count(api) == 0


async def test_import_conflict_writes_nothing(api: Api) -> None:
    await api.post("/v1/pvs", json={"setpointAddress": "TAKEN"})
    r = await api.post("/v1/pvs/import", content=b"Setpoint,Grp\nFRESH,t1\nTAKEN,t2\n", headers=CSV)
    problem(r, 409, "TAKEN")
    assert await pv_count(api) == 1
    assert (await api.get("/v1/tags")).json() == []


async def test_import_content_types(api: Api) -> None:
    r = await api.post("/v1/pvs/import", json={"setpointAddress": "A"})
    problem(r, 415, "text/csv")
    r = await api.post("/v1/pvs/import", data={"note": ""}, files={})
    assert r.status_code in (400, 415), r.text
    r = await api.post("/v1/pvs/import", content=b"Setpoint\nA\n")  # no content type: taken as CSV
    assert r.status_code == 201, r.text
