"""squirrel.api.openapi_contract: the generated document completed from the routes (a small real app)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest
from litestar import Litestar, delete, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from squirrel.api.openapi_contract import (
    PROBLEM_JSON,
    PROBLEM_SCHEMA,
    complete_schema,
    documented_scope,
    error_statuses,
    plain_parameter_schema,
)


class Part(msgspec.Struct, forbid_unknown_fields=True):
    name: str


class Note(msgspec.Struct):  # takes unknown fields: stays open
    text: str


class NewWidget(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    parts: list[Part]
    note: Note | None = None


class Widget(msgspec.Struct):
    id: int
    name: str


@get("/v1/widgets", sync_to_thread=False)
def list_widgets(
    offset: Annotated[int | None, QueryParameter(name="offset", ge=0)] = None,
    limit: Annotated[int | None, QueryParameter(name="limit", ge=1, le=100)] = None,
) -> list[Widget]:
    return []


@post("/v1/widgets", sync_to_thread=False)
def add_widget(data: JSONBody[NewWidget]) -> Widget:
    return Widget(id=1, name=data.name)


@get("/v1/widgets/{widget_id:int}", sync_to_thread=False)
def get_widget(widget_id: FromPath[int]) -> Widget:
    return Widget(id=widget_id, name="w")


@delete("/v1/widgets/{widget_id:int}", opt={"scope": "admin", "errors": [413]}, sync_to_thread=False)
def drop_widget(widget_id: FromPath[int]) -> None:
    return None


@post(
    "/v1/widgets/import",
    opt={
        "request_body": {"content": {"text/csv": {"schema": {"type": "string"}}}},
        "extra_media": {"text/csv": {"type": "string"}},
    },
    sync_to_thread=False,
)
def import_widgets() -> list[Widget]:
    return []


@get(
    "/readyz",
    opt={"scope": "public"},
    responses={503: ResponseSpec(dict[str, Any], description="not ready", generate_examples=False)},
    sync_to_thread=False,
)
def ready() -> dict[str, Any]:
    return {}


def _app() -> Litestar:
    return Litestar([list_widgets, add_widget, get_widget, drop_widget, import_widgets, ready])


def _completed() -> dict[str, Any]:
    app = _app()
    return complete_schema(app, app.openapi_schema.to_schema())


def _errors(operation: dict[str, Any]) -> set[str]:
    return {code for code in operation["responses"] if code[0] in "45"}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return _completed()


def test_the_problem_schema_is_a_component(doc: dict[str, Any]) -> None:
    assert doc["components"]["schemas"]["Problem"] == PROBLEM_SCHEMA


def test_error_statuses_follow_the_route(doc: dict[str, Any]) -> None:
    paths = doc["paths"]
    assert _errors(paths["/v1/widgets"]["get"]) == {"400", "401", "403", "429", "503"}
    assert _errors(paths["/v1/widgets"]["post"]) == {"400", "401", "403", "409", "413", "415", "429", "503"}
    assert _errors(paths["/v1/widgets/{widget_id}"]["get"]) == {"400", "401", "403", "404", "429", "503"}
    assert _errors(paths["/v1/widgets/{widget_id}"]["delete"]) == {
        "400", "401", "403", "404", "409", "413", "429", "503",
    }  # fmt: skip
    assert _errors(paths["/readyz"]["get"]) == {"400", "503"}


def test_errors_are_problems_and_429_says_when_to_retry(doc: dict[str, Any]) -> None:
    responses = doc["paths"]["/v1/widgets"]["get"]["responses"]
    for code in _errors(doc["paths"]["/v1/widgets"]["get"]):
        assert responses[code]["content"] == {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        assert responses[code]["description"]
    assert responses["429"]["headers"]["Retry-After"]["required"] is True
    assert "headers" not in responses["400"]


def test_a_declared_error_response_is_kept(doc: dict[str, Any]) -> None:
    declared = doc["paths"]["/readyz"]["get"]["responses"]["503"]
    assert declared["description"] == "not ready"
    assert PROBLEM_JSON not in declared.get("content", {})


def test_parameters_lose_the_null_branch_and_keep_zero_bounds(doc: dict[str, Any]) -> None:
    params = {p["name"]: p["schema"] for p in doc["paths"]["/v1/widgets"]["get"]["parameters"]}
    assert params["offset"]["type"] == "integer"
    assert params["offset"]["minimum"] == 0  # Litestar drops a bound of 0
    assert (params["limit"]["minimum"], params["limit"]["maximum"]) == (1, 100)
    for schema in params.values():
        assert "oneOf" not in schema and "anyOf" not in schema


def test_closed_bodies_forbid_additional_properties(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    new_widget = next(v for k, v in schemas.items() if k.endswith("NewWidget"))
    part = next(v for k, v in schemas.items() if k.endswith("Part"))
    note = next(v for k, v in schemas.items() if k.endswith("Note"))
    assert new_widget["additionalProperties"] is False
    assert part["additionalProperties"] is False
    assert "additionalProperties" not in note


def test_raw_request_bodies_and_extra_media_are_documented(doc: dict[str, Any]) -> None:
    operation = doc["paths"]["/v1/widgets/import"]["post"]
    assert operation["requestBody"] == {"content": {"text/csv": {"schema": {"type": "string"}}}}
    assert {"413", "415"} <= _errors(operation)  # the raw body counts as a body
    assert operation["responses"]["201"]["content"]["text/csv"] == {"schema": {"type": "string"}}
    assert "application/json" in operation["responses"]["201"]["content"]


def test_creates_link_to_what_they_created(doc: dict[str, Any]) -> None:
    links = doc["paths"]["/v1/widgets"]["post"]["responses"]["201"]["links"]
    get_op = doc["paths"]["/v1/widgets/{widget_id}"]["get"]["operationId"]
    assert links[get_op]["parameters"] == {"widget_id": "$response.body#/id"}


def test_completing_twice_changes_nothing() -> None:
    app = _app()
    once = complete_schema(app, app.openapi_schema.to_schema())
    snapshot = msgspec.json.encode(once)
    assert msgspec.json.encode(complete_schema(app, once)) == snapshot


def test_documented_scope_and_error_statuses_from_the_handler() -> None:
    _app()
    assert documented_scope(list_widgets, "GET") == "read"
    assert documented_scope(list_widgets, "HEAD") == "read"
    assert documented_scope(add_widget, "POST") == "write"
    assert documented_scope(drop_widget, "DELETE") == "admin"
    assert documented_scope(ready, "GET") == "public"
    assert error_statuses(ready, "GET", "/readyz", has_body=True) == {400, 413, 415}
    assert error_statuses(drop_widget, "DELETE", "/v1/widgets/{widget_id}", has_body=False) == {
        400, 401, 403, 404, 409, 413, 429, 503,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("schema", "plain"),
    [
        ({"oneOf": [{"type": "integer"}, {"type": "null"}]}, {"type": "integer"}),
        ({"anyOf": [{"type": "string"}, {"type": "null"}], "description": "d"}, {"type": "string", "description": "d"}),
        (  # the outer keys win over the kept branch's
            {"oneOf": [{"type": "integer", "minimum": 5}, {"type": "null"}], "minimum": 1},
            {"type": "integer", "minimum": 1},
        ),
        (
            {"oneOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}], "title": "t"},
            {"title": "t", "oneOf": [{"type": "integer"}, {"type": "string"}]},
        ),
        ({"oneOf": [{"type": "integer"}, {"type": "string"}]}, {"oneOf": [{"type": "integer"}, {"type": "string"}]}),
        ({"type": "boolean"}, {"type": "boolean"}),
        ({"oneOf": "not a list"}, {"oneOf": "not a list"}),
    ],
)
def test_plain_parameter_schema(schema: dict[str, Any], plain: dict[str, Any]) -> None:
    assert plain_parameter_schema(schema) == plain
