"""squirrel.api.openapi_links: links from creates to the operations on what they created (hand-made documents)."""

from __future__ import annotations

from typing import Any

from squirrel.api.openapi_links import add_links


def _created(schema: dict[str, Any], status: str = "201") -> dict[str, Any]:
    return {"responses": {status: {"content": {"application/json": {"schema": schema}}}}}


def _doc(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"components": {"schemas": schemas or {}}, "paths": paths}


def test_an_inline_schema_with_an_id_links_to_every_operation_on_it() -> None:
    doc = _doc(
        {
            "/pvs": {"post": _created({"properties": {"id": {}, "name": {}}})},
            "/pvs/{pv_id}": {
                "get": {"operationId": "GetPv"},
                "put": {"operationId": "PutPv"},
                "delete": {"operationId": "DeletePv"},
                "patch": {"operationId": "PatchPv"},  # not a followed method
            },
        }
    )
    add_links(doc)
    links = doc["paths"]["/pvs"]["post"]["responses"]["201"]["links"]
    assert set(links) == {"GetPv", "PutPv", "DeletePv"}
    assert links["PutPv"] == {"operationId": "PutPv", "parameters": {"pv_id": "$response.body#/id"}}


def test_a_queued_job_links_to_the_job_operations() -> None:
    doc = _doc(
        {
            "/snapshots": {"post": _created({"$ref": "#/components/schemas/Queued"}, "202")},
            "/v1/jobs/{job_id}": {"get": {"operationId": "GetJob"}, "delete": {"operationId": "CancelJob"}},
        },
        {"Queued": {"properties": {"jobId": {}}}},
    )
    add_links(doc)
    links = doc["paths"]["/snapshots"]["post"]["responses"]["202"]["links"]
    assert links == {
        "GetJob": {"operationId": "GetJob", "parameters": {"job_id": "$response.body#/jobId"}},
        "CancelJob": {"operationId": "CancelJob", "parameters": {"job_id": "$response.body#/jobId"}},
    }


def test_no_links_without_an_id_a_success_or_a_target() -> None:
    doc = _doc(
        {
            "/a": {"post": _created({"properties": {"name": {}}})},  # no id in the answer
            "/a/{a_id}": {"get": {"operationId": "GetA"}},
            "/b": {"post": _created({"properties": {"id": {}}}, "409")},  # not a success
            "/b/{b_id}": {"get": {"operationId": "GetB"}},
            "/c": {"post": _created({"properties": {"id": {}}})},
            "/c/{c_id}": {"get": {}},  # no operationId to link to
            "/d": {"post": _created({"$ref": "#/components/schemas/Gone"})},  # a dangling reference
            "/d/{d_id}": {"get": {"operationId": "GetD"}},
            "/e": {"post": {"responses": {"201": {"content": {"text/csv": {"schema": {"properties": {"id": {}}}}}}}}},
            "/e/{e_id}": {"get": {"operationId": "GetE"}},
            "/f": {"post": _created({"properties": {"jobId": {}}}, "202")},  # no jobs path in this document
        }
    )
    add_links(doc)
    for path in ("/a", "/b", "/c", "/d", "/e", "/f"):
        for response in doc["paths"][path]["post"]["responses"].values():
            assert "links" not in response, path


def test_only_the_next_level_is_a_target() -> None:
    doc = _doc(
        {
            "/g/{gid}/t": {"post": _created({"properties": {"id": {}}})},
            "/g/{gid}/t/{tid}": {"get": {"operationId": "GetT"}},
            "/g/{gid}/t/{tid}/sub/{sid}": {"get": {"operationId": "GetSub"}},  # needs an id the answer lacks
            "/g/{gid}/tags": {"get": {"operationId": "ListTags"}},  # a sibling path, not under /t/
            "/g/{gid}/t/{gid}": {"get": {"operationId": "Odd"}},  # the next id is one the request already had
        }
    )
    add_links(doc)
    links = doc["paths"]["/g/{gid}/t"]["post"]["responses"]["201"]["links"]
    assert links == {
        "GetT": {"operationId": "GetT", "parameters": {"tid": "$response.body#/id", "gid": "$request.path.gid"}}
    }


def test_a_document_without_paths_or_posts_is_left_alone() -> None:
    empty: dict[str, Any] = {}
    add_links(empty)
    assert empty == {}
    doc = _doc({"/x/{x_id}": {"get": {"operationId": "GetX"}}})
    add_links(doc)
    assert doc == _doc({"/x/{x_id}": {"get": {"operationId": "GetX"}}})
