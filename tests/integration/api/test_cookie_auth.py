"""The `squirrel_key` cookie on every route, its double-submit CSRF check, and the WebSocket Origin check."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from tests.conftest import Api, make_settings
from tests.support.server import RunningServer, run_server

CSRF = "c5rf-t0ken-value"


def cookie(token: str, csrf: str | None = None) -> dict[str, str]:
    value = f"squirrel_key={token}" + (f"; squirrel_csrf={csrf}" if csrf is not None else "")
    return {"Cookie": value}


async def test_cookie_signs_in_on_plain_rest_routes(api: Api) -> None:
    r = await api.client.get("/v1/api-keys", headers=cookie(api.tokens["admin"]))
    assert r.status_code == 200, r.text
    r = await api.client.get("/v1/api-keys", headers=cookie(api.tokens["read"]))
    assert r.status_code == 403  # the cookie's key keeps its scopes
    r = await api.client.get("/v1/api-keys", headers=cookie("sq_not_a_real_key_at_all"))
    assert r.status_code == 401


async def test_cookie_unsafe_methods_need_the_csrf_header(api: Api) -> None:
    admin = api.tokens["admin"]
    body = {"appName": "via-cookie", "scopes": ["read"]}
    refusals = [
        cookie(admin),  # no CSRF cookie, no header
        {**cookie(admin), "X-Squirrel-CSRF": CSRF},  # header without the cookie to match
        {**cookie(admin, CSRF)},  # cookie without the header
        {**cookie(admin, CSRF), "X-Squirrel-CSRF": "something-else"},
        {**cookie(admin, ""), "X-Squirrel-CSRF": ""},  # empty is not a token
    ]
    for headers in refusals:
        r = await api.client.post("/v1/api-keys", json=body, headers=headers)
        assert r.status_code == 403, (headers, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "CSRF" in r.json()["detail"]
    keys = (await api.get("/v1/api-keys")).json()
    assert "via-cookie" not in {k["appName"] for k in keys}  # nothing was created

    r = await api.client.post("/v1/api-keys", json=body, headers={**cookie(admin, CSRF), "X-Squirrel-CSRF": CSRF})
    assert r.status_code == 201, r.text
    key_id = r.json()["id"]
    r = await api.client.delete(f"/v1/api-keys/{key_id}", headers=cookie(admin, CSRF))
    assert r.status_code == 403
    r = await api.client.delete(f"/v1/api-keys/{key_id}", headers={**cookie(admin, CSRF), "X-Squirrel-CSRF": CSRF})
    assert r.status_code == 200 and r.json()["isActive"] is False


async def test_header_key_clients_are_exempt_from_csrf(api: Api) -> None:
    body = {"appName": "via-header", "scopes": ["read"]}
    # A header key wins over a cookie that may be there too, and needs no CSRF token.
    r = await api.client.post(
        "/v1/api-keys", json=body, headers={"X-API-Key": api.tokens["admin"], **cookie(api.tokens["read"])}
    )
    assert r.status_code == 201, r.text


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    settings = make_settings(database_url, cors_origins=("https://console.example",))
    async with run_server(settings) as s:
        yield s


async def _ws_works(server: RunningServer, query: str = "", **kw: Any) -> None:
    async with connect(f"{server.ws_url}/v1/ws/pvs{query}", **kw) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await ws.recv())["type"] == "pong"


async def _ws_refused(server: RunningServer, **kw: Any) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{server.ws_url}/v1/ws/pvs", **kw):
            pass
    assert refused.value.response.status_code == 403


async def test_cookie_websocket_refuses_foreign_origins(server: RunningServer) -> None:
    token = server.tokens["read"]
    with_cookie = {"additional_headers": cookie(token)}
    for foreign in ("https://evil.example", "null", "http://127.0.0.1:1", "https://console.example.evil.example"):
        await _ws_refused(server, origin=Origin(foreign), **with_cookie)
    await _ws_works(server, origin=Origin(server.url), **with_cookie)  # same host
    await _ws_works(server, origin=Origin("https://console.example"), **with_cookie)  # listed
    # A key the client sends itself is no cross-site risk, whatever the Origin.
    await _ws_works(server, origin=Origin("https://evil.example"), additional_headers={"X-API-Key": token})
    await _ws_works(server, f"?api_key={token}", origin=Origin("https://evil.example"))
    assert server.ctx.broadcaster.stats("ws")["clients"] == 0


async def test_wildcard_cors_allows_no_foreign_cookie_websocket(database_url: str) -> None:
    async with run_server(make_settings(database_url, cors_origins=("*",))) as server:
        token = server.tokens["read"]
        await _ws_refused(server, origin=Origin("https://evil.example"), additional_headers=cookie(token))
        await _ws_works(server, origin=Origin(server.url), additional_headers=cookie(token))
