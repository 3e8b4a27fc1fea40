"""Live values: REST reads of the PV cache, the SSE stream and the old WebSocket protocol."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Request, WebSocket, get, post, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, QueryParameter
from litestar.response import Response, Stream
from litestar.status_codes import WS_1008_POLICY_VIOLATION

from squirrel.api.common import UUID_ITEMS, query_uuids
from squirrel.api.deps import CtxDep
from squirrel.api.openapi_models import LiveCache, LiveValues
from squirrel.api.revocation import watch_key
from squirrel.live.ws import WsSession
from squirrel.model import CacheStatus
from squirrel.services import live
from squirrel.services.context import ServiceContext

_JSON = "application/json"
_READ_STREAM = {"scope": "read", "query_key": True}
# The handlers send the cache's pre-encoded JSON: these tell the schema what it is.
_LIVE_VALUES = {200: ResponseSpec(LiveValues, description="{address: entry}", generate_examples=False)}
_LIVE_CACHE = {200: ResponseSpec(LiveCache, description="{values: {address: entry}, count}", generate_examples=False)}


class LiveRequest(msgspec.Struct, forbid_unknown_fields=True):
    """`{"pv_names": [..]}` (`pvNames` accepted too)."""

    pv_names: list[str] | None = None
    pv_names_camel: list[str] | None = msgspec.field(default=None, name="pvNames")


def _json(body: bytes) -> Response[bytes]:
    return Response(body, media_type=_JSON)


@get(
    "/v1/pvs/live",
    opt={"scope": "read"},
    tags=["live"],
    summary="Live values of some addresses",
    description="Map address → live entry (snake_case). An address nobody monitors answers "
    '`{"connected": false, "error": "not monitored"}`. `pv_names` may be repeated or comma-separated.',
    responses=_LIVE_VALUES,
)
async def get_live(
    ctx: CtxDep,
    pv_names: Annotated[list[str], QueryParameter(name="pv_names", description="addresses")],
) -> Response[bytes]:
    return _json(await live.live_values(ctx, live.split_names(pv_names)))


@post(
    "/v1/pvs/live",
    opt={"scope": "read"},
    status_code=200,
    tags=["live"],
    summary="Live values of some addresses (names in the body)",
    responses=_LIVE_VALUES,
)
async def post_live(ctx: CtxDep, data: JSONBody[LiveRequest]) -> Response[bytes]:
    names = data.pv_names if data.pv_names is not None else data.pv_names_camel
    return _json(await live.live_values(ctx, live.split_names(names or [])))


@get("/v1/pvs/live/all", opt={"scope": "read"}, tags=["live"], summary="The whole live cache", responses=_LIVE_CACHE)
async def get_live_all(ctx: CtxDep) -> Response[bytes]:
    """`{values: {address: entry}, count}`."""
    return _json(await live.all_live_values(ctx))


@get("/v1/pvs/cache/status", opt={"scope": "read"}, tags=["live"], summary="Live cache status")
async def get_cache_status(ctx: CtxDep) -> CacheStatus:
    return msgspec.convert(live.cache_status(ctx), CacheStatus)


_SSE_DOC = """Server-Sent Events of live values. Select with `pvs` (comma list or repeated), `tags` (tag ids,
resolved to their PVs' setpoint and readback addresses when the stream opens) or `all=true`.

Events: `initial` once (every selected entry), then `diff` (only the entries changed since the last
event; at most one per 100 ms; never empty) and `heartbeat` every 5 s (`{timestamp, monitor_alive}`).
`data` is `{"data": {address: entry}, "count": n, "timestamp": t}`. `id` grows by one per event from 1;
a reconnect with `Last-Event-ID: n` gets a fresh `initial` with id n+1. A slow client loses
intermediate values, never the latest one. Auth: X-API-Key header, `api_key` query or `squirrel_key`
cookie. The stream ends when its key is revoked (within the key cache's lifetime, 5 s)."""


@get(
    "/v1/live/events",
    opt=_READ_STREAM,
    tags=["live"],
    summary="Live values as Server-Sent Events",
    description=_SSE_DOC,
    media_type="text/event-stream",
)
async def live_events(
    request: Request[Any, Any, Any],
    ctx: CtxDep,
    pvs: Annotated[list[str] | None, QueryParameter(name="pvs", description="addresses")] = None,
    tags: Annotated[
        list[str] | None, QueryParameter(name="tags", description="tag ids", schema_extra=UUID_ITEMS)
    ] = None,
    select_all: Annotated[bool, QueryParameter(name="all", description="every cached address")] = False,
) -> Stream:
    selection = await live.resolve_selection(ctx, live.split_names(pvs), query_uuids("tags", tags), select_all)
    return Stream(
        _sse_stream(request, ctx, selection),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _sse_stream(
    request: Request[Any, Any, Any], ctx: ServiceContext, selection: set[str] | None
) -> AsyncIterator[bytes]:
    # Subscribed here rather than in the handler: a generator that never starts never runs its finally.
    sub = live.subscribe(ctx, selection, kind="sse")
    watch = watch_key(request, lambda: live.unsubscribe(ctx, sub))  # revoking the key ends the stream
    try:
        async for chunk in live.sse_events(ctx, sub, request.headers.get("last-event-id")):
            yield chunk
    finally:
        if watch is not None:
            watch.cancel()
        live.unsubscribe(ctx, sub)


@websocket(
    "/v1/ws/pvs",
    opt=_READ_STREAM,
    summary="Live values over the old WebSocket protocol",
    description="Closed with code 1008 (policy violation) when its key is revoked. Signed in by the "
    "`squirrel_key` cookie, the handshake must come from this site (Origin) or an origin in "
    "SQUIRREL_CORS_ORIGINS.",
)
async def ws_pvs(socket: WebSocket[Any, Any, Any], ctx: CtxDep) -> None:
    await socket.accept()

    async def send(data: bytes) -> None:
        await socket.send_data(data.decode(), mode="text")

    session = live.ws_session(ctx, send)
    revoked = asyncio.Event()
    watch = watch_key(socket, revoked.set)
    pump = asyncio.create_task(session.pump(), name="squirrel-ws-pump")
    reader = asyncio.create_task(_read_messages(socket, session), name="squirrel-ws-read")
    stop = asyncio.create_task(revoked.wait(), name="squirrel-ws-revoked")
    try:
        # Until the client leaves, the pump fails on a closed socket, or the key is revoked.
        await asyncio.wait([pump, reader, stop], return_when=asyncio.FIRST_COMPLETED)
    finally:
        if watch is not None:
            watch.cancel()
        session.close()
        for task in (pump, reader, stop):
            task.cancel()
        # A pump failing on a closed socket is expected; a failure handling a message is not.
        await asyncio.gather(pump, reader, stop, return_exceptions=True)
    if not reader.cancelled() and (error := reader.exception()) is not None:
        raise error
    if revoked.is_set():
        with contextlib.suppress(Exception):  # the client may be gone already
            await socket.close(code=WS_1008_POLICY_VIOLATION, reason="the API key was revoked")


async def _read_messages(socket: WebSocket[Any, Any, Any], session: WsSession) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await session.handle(await socket.receive_data(mode="text"))


ROUTES = [get_live, post_live, get_live_all, get_cache_status, live_events, ws_pvs]
