"""The published OpenAPI document is the real contract: RFC 9457 problems for the errors each operation can
give, the 202s, the real schemas of byte-encoded responses, bounds and closed bodies, links; and the
inputs the schema refuses are refused (`since` is an ISO 8601 date-time, `?limit=null` is no number)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar.routes import HTTPRoute

from squirrel.api.openapi_contract import PROBLEM_JSON
from squirrel.api.openapi_links import add_links
from tests.conftest import Api

_PROBLEM = {"$ref": "#/components/schemas/Problem"}


async def _doc(api: Api) -> dict[str, Any]:
    r = await api.get("/schema/openapi.json", scope=None)
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    return doc


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]


async def test_every_error_is_a_documented_problem(api: Api) -> None:
    doc = await _doc(api)
    problem = doc["components"]["schemas"]["Problem"]
    assert problem["required"] == ["type", "title", "status", "detail"]
    assert "status_code" not in str(doc)  # Litestar's own error shape is gone everywhere
    for path, method, op in _operations(doc):
        errors = {code: r for code, r in op["responses"].items() if code[0] in "45"}
        assert "400" in errors, (method, path)  # strict query parameters: every operation
        for code, response in errors.items():
            if (path, code) == ("/readyz", "503"):
                assert set(response["content"]) == {"application/json"}  # its report, not a problem
                continue
            assert response["content"] == {PROBLEM_JSON: {"schema": _PROBLEM}}, (method, path, code)


async def test_error_statuses_follow_the_route(api: Api) -> None:
    paths = (await _doc(api))["paths"]

    def codes(path: str, method: str) -> set[str]:
        return {c for c in paths[path][method]["responses"] if c[0] in "45"}

    assert codes("/v1/pvs/{pv_id}", "get") == {"400", "401", "403", "404", "429", "503"}
    assert codes("/v1/pvs", "post") == {"400", "401", "403", "409", "413", "415", "429", "503"}
    assert codes("/v1/pvs/{pv_id}", "put") == {"400", "401", "403", "404", "409", "413", "415", "429", "503"}
    assert codes("/v1/pvs/{pv_id}", "delete") == {"400", "401", "403", "404", "409", "429", "503"}
    assert codes("/healthz", "get") == {"400"}  # public: no key, no database
    assert codes("/metrics", "get") == {"400", "404"}  # 404 when metrics are disabled
    limited = paths["/v1/pvs"]["get"]["responses"]["429"]
    assert limited["headers"]["Retry-After"]["required"] is True


async def test_real_errors_match_the_documented_problem(api: Api) -> None:
    doc = await _doc(api)
    required = doc["components"]["schemas"]["Problem"]["required"]
    answers = [
        await api.get("/v1/pvs/not-an-id"),  # 404
        await api.get("/v1/pvs", params={"limitt": "1"}),  # 400
        await api.get("/v1/pvs", scope=None),  # 401
        await api.post("/v1/pvs", scope="read", json={"setpointAddress": "X"}),  # 403
        await api.post("/v1/pvs", content=b"{}", headers={"content-type": "text/plain"}),  # 415
    ]
    assert [r.status_code for r in answers] == [404, 400, 401, 403, 415]
    for r in answers:
        assert r.headers["content-type"] == PROBLEM_JSON
        assert all(field in r.json() for field in required)


async def test_snapshot_create_and_restore_document_their_202(api: Api) -> None:
    paths = (await _doc(api))["paths"]

    def schema(path: str, code: str) -> Any:
        return paths[path]["post"]["responses"][code]["content"]["application/json"]["schema"]

    assert schema("/v1/snapshots", "201") == {"$ref": "#/components/schemas/SnapshotSummaryDTO"}
    assert schema("/v1/snapshots", "202") == {"$ref": "#/components/schemas/JobQueued"}
    restore = "/v1/snapshots/{snapshot_id}/restore"
    assert schema(restore, "200") == {"$ref": "#/components/schemas/RestorePlan"}
    assert schema(restore, "202") == {"$ref": "#/components/schemas/JobQueued"}


async def test_byte_encoded_responses_declare_their_real_schema(api: Api) -> None:
    doc = await _doc(api)
    paths, schemas = doc["paths"], doc["components"]["schemas"]

    def content(path: str, method: str = "get") -> dict[str, Any]:
        ok: dict[str, Any] = paths[path][method]["responses"]["200"]["content"]
        return ok

    entry = {"$ref": "#/components/schemas/LiveEntry"}
    for method in ("get", "post"):
        assert content("/v1/pvs/live", method)["application/json"]["schema"]["additionalProperties"] == entry
    assert content("/v1/pvs/live/all")["application/json"]["schema"] == {"$ref": "#/components/schemas/LiveCache"}
    assert schemas["LiveEntry"]["required"] == ["connected"]
    export = content("/v1/snapshots/{snapshot_id}/export")
    assert export["application/json"]["schema"] == {"$ref": "#/components/schemas/ExportDocument"}
    assert export["text/csv"]["schema"]["type"] == "string"
    assert content("/v1/pvs/export")["text/csv"]["schema"]["type"] == "string"
    read = content("/v1/snapshots/{snapshot_id}")["application/json"]["schema"]
    assert read == {"$ref": "#/components/schemas/SnapshotDTO"}
    imports = paths["/v1/snapshots/import"]["post"]["requestBody"]["content"]
    assert set(imports) == {"application/json", "text/csv"}
    assert set(paths["/v1/pvs/import"]["post"]["requestBody"]["content"]) == {"text/csv", "multipart/form-data"}


async def test_live_entries_match_the_documented_schema(api: Api) -> None:
    r = await api.get("/v1/pvs/live", params={"pv_names": "NOBODY:MONITORS:THIS"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.json() == {"NOBODY:MONITORS:THIS": {"connected": False, "error": "not monitored"}}


async def test_page_bounds_and_closed_bodies_are_in_the_schema(api: Api) -> None:
    doc = await _doc(api)
    schemas = doc["components"]["schemas"]
    bounded = 0
    for path, method, op in _operations(doc):
        for p in op.get("parameters", []):
            assert "null" not in str(p["schema"].get("oneOf", "")), (method, path, p["name"])
            if p["name"] in ("limit", "pageSize"):
                assert (p["schema"]["minimum"], p["schema"]["maximum"]) == (1, 1000), (method, path)
                bounded += 1
            if p["name"] == "offset":
                assert p["schema"]["minimum"] == 0, (method, path)
    assert bounded >= 6
    closed = {
        name
        for route in api.client.app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        for struct in _body_structs(handler)
        if struct.__struct_config__.forbid_unknown_fields
        for name in [struct.__name__]
    }
    assert {"LiveRequest", "UpdateSnapshotBody"} <= closed
    for name in closed:
        assert schemas[name]["additionalProperties"] is False, name
    assert schemas["NewSnapshotBody"].get("additionalProperties") is not False  # it takes unknown fields


def _body_structs(handler: Any) -> list[type[msgspec.Struct]]:
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return []
    candidates = (data.annotation, *(i.annotation for i in data.inner_types))
    return [t for t in candidates if isinstance(t, type) and issubclass(t, msgspec.Struct)]


async def test_creates_link_to_the_operations_on_what_they_created(api: Api) -> None:
    paths = (await _doc(api))["paths"]
    links = paths["/v1/pvs"]["post"]["responses"]["201"]["links"]
    get_pv = paths["/v1/pvs/{pv_id}"]["get"]["operationId"]
    assert links[get_pv] == {"operationId": get_pv, "parameters": {"pv_id": "$response.body#/id"}}
    queued = paths["/v1/snapshots"]["post"]["responses"]["202"]["links"]
    get_job = paths["/v1/jobs/{job_id}"]["get"]["operationId"]
    assert queued[get_job]["parameters"] == {"job_id": "$response.body#/jobId"}


def test_links_keep_the_parent_id_of_nested_resources() -> None:
    ref = {"$ref": "#/components/schemas/Thing"}
    doc: dict[str, Any] = {
        "components": {"schemas": {"Thing": {"properties": {"id": {}}}}},
        "paths": {
            "/g/{gid}/t": {"post": {"responses": {"201": {"content": {"application/json": {"schema": ref}}}}}},
            "/g/{gid}/t/{tid}": {"get": {"operationId": "GetT"}},
        },
    }
    add_links(doc)
    link = doc["paths"]["/g/{gid}/t"]["post"]["responses"]["201"]["links"]["GetT"]
    assert link["parameters"] == {"tid": "$response.body#/id", "gid": "$request.path.gid"}


@pytest.mark.parametrize(
    "since",
    ["2026-01-31T12:00:00Z", "2026-01-31t12:00:00.123456789z", "2026-01-31 12:00", "2026-01-31T12:00:00+02:00",
     "2016-12-31T23:59:60Z", ""],
)  # fmt: skip
async def test_audit_since_takes_iso_8601(api: Api, since: str) -> None:
    r = await api.get("/v1/audit", params={"since": since})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "since", ["0.5", "1700000000", "2026-13-01T00:00:00Z", "yesterday", "2026-01-31", "٢٠٢٦-01-31T12:00Z"]
)
async def test_audit_since_refuses_other_forms(api: Api, since: str) -> None:
    r = await api.get("/v1/audit", params={"since": since})
    assert r.status_code == 400 and r.headers["content-type"] == PROBLEM_JSON
    assert r.json()["detail"].startswith("since must be an ISO 8601 date-time")


async def test_audit_since_filters(api: Api) -> None:
    everything = (await api.get("/v1/audit")).json()
    assert everything["totalCount"] >= 1  # the test keys were created
    assert (await api.get("/v1/audit", params={"since": "2999-01-01T00:00:00Z"})).json()["totalCount"] == 0
    assert (await api.get("/v1/audit", params={"since": "2000-01-01T00:00:00Z"})).json() == everything


@pytest.mark.parametrize("query", [{"limit": "null"}, {"offset": "NULL"}])
async def test_null_is_not_a_number(api: Api, query: dict[str, str]) -> None:
    r = await api.get("/v1/snapshots", params=query)
    assert r.status_code == 400 and next(iter(query)) in r.json()["detail"]


async def test_enumerated_and_id_parameters_are_in_the_schema(api: Api) -> None:
    paths = (await _doc(api))["paths"]
    jobs = {p["name"]: p["schema"] for p in paths["/v1/jobs"]["get"]["parameters"]}
    assert jobs["status"]["enum"] == ["pending", "running", "completed", "failed", "cancelled"]
    assert jobs["type"]["enum"] == ["snapshot_create", "snapshot_restore"]
    for path in ("/v1/snapshots", "/v1/pvs/search"):
        tags = next(p for p in paths[path]["get"]["parameters"] if p["name"] == "tags")
        assert tags["schema"]["items"]["pattern"].startswith("^([0-9a-fA-F]{8}-"), path
    assert (await api.get("/v1/jobs", params={"status": "done"})).status_code == 400
    assert (await api.get("/v1/snapshots", params={"tags": ""})).status_code == 200  # empty: no filter


async def test_operations_answering_two_successes_document_both(api: Api) -> None:
    paths = (await _doc(api))["paths"]
    add_tag = paths["/v1/tags/{group_id}/tags"]["post"]["responses"]
    assert {"200", "201"} <= set(add_tag)  # 200: skip_duplicates=true and the tag existed
    assert {"200", "503"} <= set(paths["/readyz"]["get"]["responses"])


def test_links_skip_targets_needing_an_id_the_response_lacks() -> None:
    ref = {"$ref": "#/components/schemas/Group"}
    doc: dict[str, Any] = {
        "components": {"schemas": {"Group": {"properties": {"id": {}}}}},
        "paths": {
            "/g": {"post": {"responses": {"201": {"content": {"application/json": {"schema": ref}}}}}},
            "/g/{gid}": {"get": {"operationId": "GetG"}},
            "/g/{gid}/t/{tid}": {"delete": {"operationId": "DeleteT"}},
        },
    }
    add_links(doc)
    assert set(doc["paths"]["/g"]["post"]["responses"]["201"]["links"]) == {"GetG"}


async def test_zero_bounds_are_in_the_schema(api: Api) -> None:
    paths = (await _doc(api))["paths"]
    compare = {p["name"]: p["schema"] for p in paths["/v1/snapshots/{snapshot_id}/compare/live"]["get"]["parameters"]}
    assert compare["absTolerance"]["minimum"] == 0 and compare["relTolerance"]["minimum"] == 0
    assert compare["offset"]["minimum"] == 0
