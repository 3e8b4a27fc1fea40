"""CORS: `*` never goes with credentials; explicit origins may keep them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar.testing import AsyncTestClient

from squirrel.app import create_app
from tests.conftest import make_settings

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key"}


@asynccontextmanager
async def client_for(database_url: str, origins: tuple[str, ...]) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(make_settings(database_url, cors_origins=origins))
    async with AsyncTestClient(app=app) as client:
        yield client


async def test_wildcard_origins_never_allow_credentials(database_url: str) -> None:
    async with client_for(database_url, ("*",)) as client:
        for origin in ("null", "https://evil.example"):
            r = await client.options("/v1/pvs", headers={"Origin": origin, **PREFLIGHT})
            assert r.status_code in (200, 204), r.text
            assert "access-control-allow-credentials" not in r.headers
            assert r.headers["access-control-allow-origin"] == "*"  # not the caller's origin reflected
            r = await client.get("/healthz", headers={"Origin": origin})
            assert r.status_code == 200
            assert "access-control-allow-credentials" not in r.headers
            assert r.headers["access-control-allow-origin"] == "*"


async def test_explicit_origins_keep_credentials(database_url: str) -> None:
    async with client_for(database_url, ("https://console.example",)) as client:
        r = await client.options("/v1/pvs", headers={"Origin": "https://console.example", **PREFLIGHT})
        assert r.status_code in (200, 204), r.text
        assert r.headers["access-control-allow-origin"] == "https://console.example"
        assert r.headers["access-control-allow-credentials"] == "true"
        r = await client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers  # a foreign origin is not allowed
