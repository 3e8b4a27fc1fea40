"""The real app under uvicorn, in-process on a free port (AsyncTestClient hangs on endless SSE streams)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from litestar import Litestar

from squirrel.app import create_app
from squirrel.services.context import ServiceContext
from squirrel.settings import Settings


class RunningServer:
    def __init__(self, app: Litestar, port: int, tokens: dict[str, str]) -> None:
        self.app = app
        self.port = port
        self.tokens = tokens
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"

    @property
    def ctx(self) -> ServiceContext:
        ctx: ServiceContext = self.app.state.ctx
        return ctx

    def headers(self, scope: str | None = "read") -> dict[str, str]:
        return {"X-API-Key": self.tokens[scope]} if scope else {}

    def client(self, scope: str | None = "read", **kw: Any) -> httpx.AsyncClient:
        """An HTTP client for this server sending the key of `scope` (None: no key)."""
        return httpx.AsyncClient(base_url=self.url, headers=self.headers(scope), timeout=kw.pop("timeout", 10.0), **kw)


@asynccontextmanager
async def run_server(
    settings: Settings, *, tokens: bool = True, **uvicorn_options: Any
) -> AsyncIterator[RunningServer]:
    """Start create_app(settings) under uvicorn on 127.0.0.1:0 and stop it (with open streams) on exit.

    `uvicorn_options` override the uvicorn.Config defaults below (e.g. log_config=None, log_level="info")."""
    app = create_app(settings)
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "lifespan": "on",
        "access_log": False,
        "log_level": "warning",
        "timeout_graceful_shutdown": 1,
        "ws": "websockets-sansio",
    }
    config = uvicorn.Config(app, **(options | uvicorn_options))
    server = uvicorn.Server(config)
    # _serve() rather than serve(): the latter installs signal handlers and re-raises them in pytest.
    task = asyncio.create_task(server._serve())
    try:
        async with asyncio.timeout(60):
            while not server.started:
                if task.done():
                    try:
                        task.result()
                    except SystemExit:  # uvicorn's answer to a failed lifespan startup
                        raise RuntimeError("the app failed to start (see the lifespan error above)") from None
                    raise RuntimeError("uvicorn exited before it started")
                await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        keys = {}
        if tokens:
            from tests.conftest import create_tokens

            keys = await create_tokens(app)
        yield RunningServer(app, port, keys)
    finally:
        server.should_exit = True
        if not task.done():
            try:
                async with asyncio.timeout(30):
                    await task
            except BaseException:
                task.cancel()
                raise


class SseEvent:
    def __init__(self, event: str, id: str | None, data: str) -> None:
        self.event = event
        self.id = int(id) if id is not None else None
        self.data = data

    def json(self) -> Any:
        import json

        return json.loads(self.data)

    def __repr__(self) -> str:
        return f"SseEvent({self.event!r}, id={self.id}, data={self.data[:80]!r})"


class SseReader:
    """Parses an httpx streaming response into events (`event:`, `id:`, `data:` lines; blank line ends one)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, timeout: float = 10.0) -> SseEvent:
        async with asyncio.timeout(timeout):
            event, eid, data = "message", None, []
            async for line in self._lines:
                if line == "":
                    if data:
                        return SseEvent(event, eid, "\n".join(data))
                    event, eid, data = "message", None, []
                    continue
                field, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if field == "event":
                    event = value
                elif field == "id":
                    eid = value
                elif field == "data":
                    data.append(value)
            raise EOFError("the stream ended")

    async def until(self, predicate: Any, timeout: float = 10.0) -> SseEvent:
        """The first event for which predicate(event) is true."""
        async with asyncio.timeout(timeout):
            while True:
                ev = await self.next(timeout)
                if predicate(ev):
                    return ev


@asynccontextmanager
async def sse(client: httpx.AsyncClient, url: str, **kw: Any) -> AsyncIterator[SseReader]:
    async with client.stream("GET", url, **kw) as response:
        if response.status_code != 200:
            await response.aread()
            raise AssertionError(f"SSE {url}: {response.status_code} {response.text}")
        yield SseReader(response)


def feed(cache: Any, address: str, value: Any, **fields: Any) -> None:
    """Write a value into the PV cache the way the monitor does (entry updated in place, marked dirty)."""
    import time

    state = cache.ensure(address)
    now = time.time()
    state.value = value
    state.type = fields.pop("type", state.type or _type_of(value))
    error = state.error
    cache.set_connected(address, fields.pop("connected", True))  # as the monitor does: the cache counts it
    state.error = error
    state.status = fields.pop("status", "NO_ALARM")
    state.severity = fields.pop("severity", 0)
    state.timestamp = fields.pop("timestamp", now)
    state.updated_at = now
    state.has_value = True
    for name, field_value in fields.items():
        setattr(state, name, field_value)
    cache.total_updates += 1
    cache.mark_dirty(address)


def _type_of(value: Any) -> str:
    if isinstance(value, list):
        return (_type_of(value[0]) if value else "double") + "[]"
    if isinstance(value, float):
        return "double"
    if isinstance(value, int):
        return "long"
    return "string"
