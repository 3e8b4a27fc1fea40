"""HTTP method details (RFC 9110): OPTIONS answers with Allow, 405 names what is allowed, HEAD works on
every GET route (same headers, no body), and CSV exports say their charset once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, make_settings
from tests.support.server import run_server
from tests.support.snapshots import WORKER, create_pvs, fill_kinds


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(WORKER)


def allow_of(r: Any) -> set[str]:
    return {m.strip() for m in r.headers["allow"].split(",")}


async def test_options_answers_allow_without_a_key(api: Api) -> None:
    r = await api.request("OPTIONS", "/v1/pvs", scope=None)
    assert r.status_code == 204 and r.content == b""
    assert allow_of(r) == {"GET", "HEAD", "POST", "OPTIONS"}
    r = await api.request("OPTIONS", "/v1/pvs/00000000-0000-4000-8000-000000000000", scope=None)
    assert r.status_code == 204 and allow_of(r) == {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
    r = await api.request("OPTIONS", "/v1/health/circuits/x/open", scope=None)
    assert r.status_code == 204 and allow_of(r) == {"POST", "OPTIONS"}


async def test_options_on_unknown_path_is_404(api: Api) -> None:
    r = await api.request("OPTIONS", "/v1/nothing-here", scope=None)
    assert r.status_code == 404 and r.json()["status"] == 404


@pytest.mark.parametrize("method", ["TRACE", "PATCH"])
async def test_405_names_the_allowed_methods(api: Api, method: str) -> None:
    r = await api.request(method, "/v1/api-keys")
    assert r.status_code == 405 and r.json()["status"] == 405
    assert r.headers["content-type"].startswith("application/problem+json")
    assert allow_of(r) == {"GET", "HEAD", "POST", "OPTIONS"}


async def test_head_on_get_routes_has_the_get_headers_and_no_body(api: Api) -> None:
    await create_pvs(api, 3, prefix="HD")
    for path in ("/v1/pvs?pvName=HD", "/v1/pvs/devices", "/healthz", "/schema/openapi.json"):
        got = await api.get(path, scope="read")
        head = await api.request("HEAD", path, scope="read")
        assert head.status_code == 200 == got.status_code, (path, head.status_code)
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
        assert int(head.headers["content-length"]) == len(got.content) > 0


async def test_head_follows_the_get_rules(api: Api) -> None:
    assert (await api.request("HEAD", "/v1/pvs", scope=None)).status_code == 401  # a key is needed, as for GET
    r = await api.request("HEAD", "/v1/snapshots/not-a-uuid", scope="read")
    assert r.status_code == 404 and r.content == b""
    r = await api.request("HEAD", "/v1/pvs/multi", scope="write")  # a POST-only route
    assert r.status_code == 405 and allow_of(r) == {"POST", "OPTIONS"}


async def test_csv_exports_name_their_charset_once(api: Api) -> None:
    pvs = await create_pvs(api, 2, prefix="CSV")
    fill_kinds(api.client.app.state.ctx.cache, pvs)
    sid = (await api.post("/v1/snapshots?async=false", json={"title": "csv"})).json()["id"]
    for path in (f"/v1/snapshots/{sid}/export?format=csv", "/v1/pvs/export?format=csv"):
        r = await api.get(path)
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/csv; charset=utf-8", (path, r.headers["content-type"])


async def test_head_on_an_event_stream_ends_at_once(database_url: str) -> None:
    """HEAD on an endless SSE route answers the GET's headers and ends; the stream does not keep running."""
    async with run_server(make_settings(database_url)) as server, server.client("read", timeout=5.0) as client:
        r = await client.head("/v1/live/events", params={"all": "true"})
        assert r.status_code == 200 and r.content == b""
        assert r.headers["content-type"].startswith("text/event-stream")
        assert (await client.get("/healthz")).status_code == 200  # the connection is free again
