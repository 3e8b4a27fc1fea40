"""Apps made per test with their own settings, each behind an in-process AsyncTestClient and its keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar.testing import AsyncTestClient

from squirrel.app import create_app
from tests.conftest import Api, create_tokens, make_settings

MakeApi = Callable[..., Awaitable[Api]]


@asynccontextmanager
async def app_clients(database_url: str) -> AsyncIterator[MakeApi]:
    """`make(**settings_overrides)` starts an app on `database_url` and answers its Api; all stop on exit."""
    clients: list[AsyncTestClient[Any]] = []

    async def make(**overrides: Any) -> Api:
        app = create_app(make_settings(database_url, **overrides))
        client = AsyncTestClient(app=app)
        await client.__aenter__()
        clients.append(client)
        return Api(client, await create_tokens(app))

    yield make
    for c in clients:
        await c.__aexit__(None, None, None)
