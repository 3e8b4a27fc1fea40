"""App-wide behaviour: readiness, problem responses, envelope mode, CORS, anonymous reads, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import Api
from tests.support.apps import MakeApi, app_clients


async def test_readyz_reports_database(api: Api) -> None:
    r = await api.get("/readyz", scope=None)
    assert r.status_code == 200, r.text
    assert r.json()["checks"]["database"] == "ok"


async def test_unknown_route_is_problem_json(api: Api) -> None:
    r = await api.get("/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert set(body) >= {"type", "title", "status", "detail"} and body["status"] == 404


async def test_wrong_method_is_405_problem(api: Api) -> None:
    r = await api.request("PATCH", "/v1/api-keys")
    assert r.status_code == 405 and r.json()["status"] == 405


async def test_openapi_schema_is_public(api: Api) -> None:
    r = await api.get("/schema/openapi.json", scope=None)
    assert r.status_code == 200 and "/v1/api-keys" in r.json()["paths"]


async def test_body_over_one_megabyte_is_413(api: Api) -> None:
    big = b'{"appName": "' + b"x" * 1_100_000 + b'", "scopes": ["read"]}'
    r = await api.post("/v1/api-keys", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["status"] == 413


@pytest.fixture
async def client_for(database_url: str) -> AsyncIterator[MakeApi]:
    async with app_clients(database_url) as make:
        yield make


async def test_envelope_wraps_success_and_errors(client_for: Any) -> None:
    api = await client_for(api_envelope=True)
    ok = (await api.get("/v1/api-keys/count")).json()
    assert ok["errorCode"] == 0 and ok["errorMessage"] is None and ok["payload"]["active"] == 4
    err = await api.get("/v1/api-keys/count", scope="read")
    assert err.status_code == 403
    body = err.json()
    assert body["errorCode"] == 403 and body["payload"] is None and "admin" in body["errorMessage"]
    assert (await api.get("/healthz", scope=None)).json() == {"status": "ok"}  # only /v1 is wrapped


async def test_anonymous_read_opens_reads_only(client_for: Any) -> None:
    api = await client_for(anonymous="read")
    assert (await api.get("/v1/audit", scope=None)).status_code == 403  # admin still needs a key
    r = await api.post("/v1/api-keys", scope=None, json={"appName": "x", "scopes": ["read"]})
    assert r.status_code == 403


async def test_cors_allows_configured_origin_only(client_for: Any) -> None:
    api = await client_for(cors_origins=["https://gui.example"])
    pre = {"Origin": "https://gui.example", "Access-Control-Request-Method": "GET"}
    r = await api.request("OPTIONS", "/v1/api-keys", scope=None, headers=pre)
    assert r.status_code in (200, 204)
    assert r.headers.get("access-control-allow-origin") == "https://gui.example"
    r = await api.get("/healthz", scope=None, headers={"Origin": "https://evil.example"})
    assert r.headers.get("access-control-allow-origin") is None
