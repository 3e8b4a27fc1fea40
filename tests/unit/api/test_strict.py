"""strict.py's own helpers: what a handler accepts, read from its signature (wire names, booleans, numbers,
repeatable lists, JSON body or not, the stream key); suggestions for a mistyped name; JSON content types;
where a NUL hides in a document; how deep a document nests."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
from litestar import Litestar, get, post, websocket
from litestar.connection import WebSocket
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody, QueryParameter
from litestar.routes import HTTPRoute

from squirrel.api import strict
from squirrel.api.strict import QueryRules


@get("/things", opt={"query_key": True}, sync_to_thread=False)
def list_things(
    page_size: Annotated[int, QueryParameter(name="pageSize")] = 10,
    dry_run: Annotated[bool, QueryParameter(name="dryRun")] = False,
    limit: Annotated[int | None, QueryParameter(name="limit")] = None,
    ratio: Annotated[float, QueryParameter(name="ratio")] = 1.0,
    name: Annotated[str | None, QueryParameter(name="name")] = None,
    pvs: Annotated[list[str] | None, QueryParameter(name="pvs")] = None,
    others: Annotated[list[str] | None, QueryParameter(name="others")] = None,
) -> None:
    return None


@post("/things", sync_to_thread=False)
def create_thing(data: JSONBody[dict[str, Any]]) -> None:
    return None


@post("/form", sync_to_thread=False)
def post_form(data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]) -> None:
    return None


@websocket("/stream")
async def stream(socket: WebSocket[Any, Any, Any], level: Annotated[int, QueryParameter(name="level")] = 0) -> None:
    await socket.close()


@pytest.fixture(scope="module")
def rules() -> dict[tuple[str, str], QueryRules]:
    app = Litestar([list_things, create_thing, post_form, stream])
    strict.install(app)
    table: dict[tuple[str, ...], QueryRules] = app.state.query_rules
    out: dict[tuple[str, str], QueryRules] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for method, (handler, _) in route.route_handler_map.items():
                out[(method, route.path)] = table[strict._key(handler)]
        else:
            out[("WS", route.path)] = table[strict._key(route.route_handler)]  # type: ignore[union-attr]
    return out


def test_accepted_names_are_the_wire_names_plus_the_stream_key(rules: dict[tuple[str, str], QueryRules]) -> None:
    listing = rules[("GET", "/things")]
    expected = {"pageSize", "dryRun", "limit", "ratio", "name", "pvs", "others", strict.KEY_PARAMETER}
    assert listing.names == frozenset(expected)  # query_key: the stream's ?api_key= is declared too
    assert listing.aliases["page_size"] == "pageSize" and listing.aliases["limit"] == "limit"
    assert "page_size" not in listing.names  # the Python name is not accepted on the wire


def test_booleans_numbers_and_repeatable_lists_are_derived_from_the_types(
    rules: dict[tuple[str, str], QueryRules],
) -> None:
    listing = rules[("GET", "/things")]
    assert listing.booleans == {"dryRun"}
    assert listing.numbers == {"pageSize", "limit", "ratio"}  # optional numbers too; a bool is no number
    assert listing.multi == {"pvs"}  # only lists named in API.md may repeat, not any list
    assert not listing.json_body


def test_json_body_only_for_json_data(rules: dict[tuple[str, str], QueryRules]) -> None:
    assert rules[("POST", "/things")].json_body
    assert rules[("POST", "/things")].names == frozenset()  # no query parameters, and no stream key
    assert not rules[("POST", "/form")].json_body  # a form is not JSON


def test_websocket_routes_always_take_the_key(rules: dict[tuple[str, str], QueryRules]) -> None:
    ws = rules[("WS", "/stream")]
    assert ws.names == {"level", strict.KEY_PARAMETER} and ws.numbers == {"level"}


def test_suggestions_for_an_unknown_name() -> None:
    known = frozenset({"pageSize", "dryRun", "limit"})
    assert strict._suggest("page_size", known) == "; did you mean 'pageSize'?"  # snake_case of a camel name
    assert strict._suggest("DRYRUN", known) == "; did you mean 'dryRun'?"
    assert strict._suggest("limt", known) == "; did you mean 'limit'?"  # a typo
    assert strict._suggest("zzz", known) == "; this operation takes dryRun, limit, pageSize"
    assert strict._suggest("zzz", frozenset()) == "; this operation takes no query parameters"


@pytest.mark.parametrize(
    ("content_type", "json_ok"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/merge-patch+json", True),
        ("application/problem+json", True),
        ("text/json", False),
        ("application/jsonx", False),
        ("application/x-www-form-urlencoded", False),
        ("", False),
    ],
)
def test_json_content_types(content_type: str, json_ok: bool) -> None:
    assert strict._json_content_type(content_type) is json_ok


def test_the_nul_path_names_where_the_nul_is() -> None:
    assert strict._nul_path({"title": "ok", "pvs": [{"a": "x"}, {"a": "b\x00"}]}, "$") == "$.pvs[1].a"
    assert strict._nul_path(["\x00"], "$") == "$[0]"
    assert strict._nul_path({"ke\x00y": 1}, "$") == "$ (a member name)"
    assert strict._nul_path({"title": "ok", "n": 1, "f": None, "l": [True, 2.5]}, "$") is None
    assert strict._nul_path("", "$") is None


def _nested(levels: int) -> Any:
    return json.loads("[" * levels + "]" * levels)


def test_depth_of_flat_and_wide_documents() -> None:
    assert not strict._depth_exceeds({"a": 1, "b": "x"}, 1)
    assert not strict._depth_exceeds([1, 2, 3], 1)  # scalars do not nest: a flat list is one level
    assert strict._depth_exceeds([1, 2, 3], 0)
    assert not strict._depth_exceeds(_nested(10), strict.MAX_JSON_DEPTH)
    assert not strict._depth_exceeds(strict.MAX_JSON_DEPTH * [{"a": [1]}], strict.MAX_JSON_DEPTH)  # wide, not deep
    assert strict._depth_exceeds(_nested(200), strict.MAX_JSON_DEPTH)
    assert strict._depth_exceeds({"a": {"b": {"c": {}}}}, 1)


def test_a_document_exactly_max_depth_deep_is_accepted() -> None:
    assert not strict._depth_exceeds(_nested(strict.MAX_JSON_DEPTH), strict.MAX_JSON_DEPTH)


def test_one_level_more_than_max_depth_is_refused() -> None:
    assert strict._depth_exceeds(_nested(strict.MAX_JSON_DEPTH + 1), strict.MAX_JSON_DEPTH)
