"""Shared fixtures: real PostgreSQL, the real app over HTTP, API keys for every scope."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from squirrel.app import create_app
from squirrel.logsetup import configure_logging
from squirrel.settings import Settings, load_settings
from tests.support.postgres import DatabaseFactory, start_server

configure_logging("warning", json=False)

pytest_plugins = ["tests.support.ioc"]


@pytest.fixture(scope="session")
def pg() -> Iterator[DatabaseFactory]:
    yield from start_server()


@pytest.fixture
def database_url(pg: DatabaseFactory) -> Iterator[str]:
    uri = pg.create()
    yield uri
    pg.drop(uri)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUIRREL_")}
    base: dict[str, Any] = {"database_url": database_url, "roles": ["api"], "db_pool_min": 1, "db_pool_max": 4}
    base.update(overrides)
    return load_settings(env, **base)


class Api:
    """The app over HTTP plus one token per scope (and helpers to send them)."""

    def __init__(self, client: AsyncTestClient[Any], tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def headers(self, scope: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
        out = {"X-API-Key": self.tokens[scope]} if scope else {}
        out.update(extra or {})
        return out

    async def get(self, url: str, scope: str | None = "admin", **kw: Any) -> Any:
        return await self.client.get(url, headers=self.headers(scope, kw.pop("headers", None)), **kw)

    async def post(self, url: str, scope: str | None = "admin", **kw: Any) -> Any:
        return await self.client.post(url, headers=self.headers(scope, kw.pop("headers", None)), **kw)

    async def put(self, url: str, scope: str | None = "admin", **kw: Any) -> Any:
        return await self.client.put(url, headers=self.headers(scope, kw.pop("headers", None)), **kw)

    async def delete(self, url: str, scope: str | None = "admin", **kw: Any) -> Any:
        return await self.client.delete(url, headers=self.headers(scope, kw.pop("headers", None)), **kw)

    async def request(self, method: str, url: str, scope: str | None = "admin", **kw: Any) -> Any:
        return await self.client.request(method, url, headers=self.headers(scope, kw.pop("headers", None)), **kw)


async def create_tokens(app: Any) -> dict[str, str]:
    from squirrel.services.keys import SYSTEM

    keys = app.state.key_service
    tokens = {}
    for scope in ("read", "write", "restore", "admin"):
        key = await keys.create(SYSTEM, f"test-{scope}", [scope])
        tokens[scope] = key.token
    return tokens


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change the app's settings."""
    return {}


@pytest.fixture
async def api(database_url: str, settings_overrides: dict[str, Any]) -> AsyncIterator[Api]:
    app = create_app(make_settings(database_url, **settings_overrides))
    async with AsyncTestClient(app=app) as client:
        yield Api(client, await create_tokens(app))
