"""squirrel.client._routes_registry: each operation's request (method, path, query, body), built without I/O."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgspec
import pytest

from squirrel.client._calls import Call
from tests.unit.client.recorder import Recorder

G, T = UUID(int=7), UUID(int=8)

CASES: list[tuple[Callable[[Recorder], Call[Any]], str, str, tuple[tuple[str, str], ...]]] = [
    (lambda c: c.list_pvs(), "GET", "/v1/pvs", ()),
    (lambda c: c.list_pvs("X:"), "GET", "/v1/pvs", (("pvName", "X:"),)),
    (lambda c: c.page_pvs(page_size=10, continuation_token="tok"), "GET", "/v1/pvs/paged",
     (("pageSize", "10"), ("continuationToken", "tok"))),
    (lambda c: c.search_pvs(q="a", devices=["d1", "d2"], tags=[T], include_live_values=True), "GET", "/v1/pvs/search",
     (("q", "a"), ("devices", "d1"), ("devices", "d2"), ("tags", str(T)), ("include_live_values", "true"))),
    (lambda c: c.devices(), "GET", "/v1/pvs/devices", ()),
    (lambda c: c.get_pv("a b"), "GET", "/v1/pvs/a%20b", ()),
    (lambda c: c.export_pvs(), "GET", "/v1/pvs/export", (("format", "json"),)),
    (lambda c: c.delete_pv(G), "DELETE", f"/v1/pvs/{G}", ()),
    (lambda c: c.live_all(), "GET", "/v1/pvs/live/all", ()),
    (lambda c: c.cache_status(), "GET", "/v1/pvs/cache/status", ()),
    (lambda c: c.tag_groups(), "GET", "/v1/tags", ()),
    (lambda c: c.tag_group(G), "GET", f"/v1/tags/{G}", ()),
    (lambda c: c.delete_tag_group(G), "DELETE", f"/v1/tags/{G}", ()),
    (lambda c: c.add_tag(G, "t", skip_duplicates=True), "POST", f"/v1/tags/{G}/tags", (("skip_duplicates", "true"),)),
    (lambda c: c.delete_tag(G, T), "DELETE", f"/v1/tags/{G}/tags/{T}", ()),
]  # fmt: skip


@pytest.mark.parametrize(("build", "method", "path", "params"), CASES)
def test_requests(
    build: Callable[[Recorder], Call[Any]], method: str, path: str, params: tuple[tuple[str, str], ...]
) -> None:
    call = build(Recorder())
    assert (call.method, call.path, call.params) == (method, path, params)


def test_tag_filters_travel_as_one_json_parameter() -> None:
    call = Recorder().page_pvs(tag_filters={str(G): [str(T)]})
    assert call.params == (("tagFilters", f'{{"{G}":["{T}"]}}'),)
    assert Recorder().page_pvs(tag_filters={}).params == ()  # empty: no filter at all


def test_bodies() -> None:
    c = Recorder()
    live = c.live_values(["A", "B"])
    assert (live.method, live.path) == ("POST", "/v1/pvs/live")
    assert msgspec.json.decode(live.content) == {"pv_names": ["A", "B"]}
    group = c.create_tag_group("g", "d")
    assert (group.path, msgspec.json.decode(group.content)) == ("/v1/tags", {"name": "g", "description": "d"})
    bulk = c.bulk_tags({"g": ["t1"]})
    assert (bulk.path, msgspec.json.decode(bulk.content)) == ("/v1/tags/bulk", {"groups": {"g": ["t1"]}})
    tag = c.add_tag(G, "t")
    assert (tag.params, msgspec.json.decode(tag.content)) == ((), {"name": "t", "description": None})
    csv = c.import_pvs("setpointAddress\nX:1\n")
    assert (csv.method, csv.path, csv.content_type, csv.content) == (
        "POST", "/v1/pvs/import", "text/csv", b"setpointAddress\nX:1\n",
    )  # fmt: skip


def test_a_tag_group_answer_is_the_first_of_a_one_element_array() -> None:
    group = {"id": str(G), "name": "g", "description": None, "createdDate": "2026-01-01T00:00:00Z",
             "lastModifiedDate": "2026-01-01T00:00:00Z", "tags": []}  # fmt: skip
    answer = Recorder().tag_group(G).answer(200, msgspec.json.encode([group, {**group, "name": "other"}]))
    assert (answer.id, answer.name) == (G, "g")
