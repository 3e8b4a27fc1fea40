"""Live values for the API: the broadcaster and Redis bridge lifecycle, selections, REST reads, streams."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any
from uuid import UUID

from squirrel import addresses
from squirrel.db import live as live_db
from squirrel.db.pool import connection
from squirrel.errors import UnavailableError, ValidationError
from squirrel.live.broadcaster import Broadcaster, Subscriber
from squirrel.live.entries import NOT_MONITORED, EntryEncoder, encode_entry, encode_unknown
from squirrel.live.redis_bridge import RedisConsumer, RedisKeys, RedisPublisher
from squirrel.live.sse import live_stream
from squirrel.live.ws import WsSession
from squirrel.services.context import ServiceContext

MAX_NAMES = 100_000  # addresses in one live request or subscription


async def start_live(ctx: ServiceContext, stack: AsyncExitStack) -> None:
    """Start the broadcaster (api role, or monitor + Redis) and the Redis bridge when configured."""
    settings = ctx.settings
    publishes = settings.redis_url is not None and settings.has_role("monitor")
    if not (settings.has_role("api") or publishes):
        return
    broadcaster = Broadcaster(ctx.cache, queue_size=settings.sse_queue_size)
    broadcaster.start()
    ctx.broadcaster = broadcaster
    stack.push_async_callback(broadcaster.stop)
    if settings.redis_url is None:
        return
    bridge: RedisPublisher | RedisConsumer
    keys = RedisKeys.of(settings.redis_namespace)
    if publishes:
        bridge = RedisPublisher(ctx.cache, broadcaster, settings.redis_url, lambda: _local_monitor_alive(ctx), keys)
    else:
        bridge = RedisConsumer(ctx.cache, broadcaster, settings.redis_url, keys)
    bridge.start()
    ctx.redis_bridge = bridge
    stack.push_async_callback(bridge.stop)


def _local_monitor_alive(ctx: ServiceContext) -> bool:
    return ctx.monitor is not None and ctx.monitor.running


def monitor_alive(ctx: ServiceContext) -> bool:
    """Is a monitor feeding this process's cache: our own, or the remote one behind Redis?

    A publisher's `monitor_alive` is a callable reporting on our own monitor, so it says nothing once
    that monitor is gone: only a consumer speaks for a remote one."""
    if ctx.monitor is not None:
        return _local_monitor_alive(ctx)
    bridge = ctx.redis_bridge
    return isinstance(bridge, RedisConsumer) and bridge.monitor_alive


def broadcaster_of(ctx: ServiceContext) -> Broadcaster:
    broadcaster = ctx.broadcaster
    if broadcaster is None:
        raise UnavailableError("live values are not served by this instance (it does not run the api role)")
    return broadcaster


def split_names(values: list[str] | None) -> list[str]:
    """Addresses from a repeated and/or comma-separated parameter, in order, without duplicates."""
    seen: dict[str, None] = {}
    for raw in values or []:
        for part in raw.split(","):
            part = part.strip()
            if part:
                if len(part) > 255:
                    raise ValidationError(f"pv name {part[:40]!r}... is longer than 255 characters")
                seen[part] = None
    if len(seen) > MAX_NAMES:
        raise ValidationError(f"at most {MAX_NAMES} pv names per request, got {len(seen)}")
    return list(seen)


# --- REST ------------------------------------------------------------------------------------
def _encoder(ctx: ServiceContext) -> EntryEncoder:
    broadcaster = ctx.broadcaster
    return broadcaster.encoder if broadcaster is not None else EntryEncoder(ctx.cache)


def channel_keys(ctx: ServiceContext, names: list[str], where: str) -> dict[str, str]:
    """Each address's channel key (`ca://FOO` is FOO; a bare name takes SQUIRREL_DEFAULT_PROTOCOL)."""
    default = ctx.settings.default_protocol
    return {name: addresses.request_key(name, default, where) for name in names}


async def live_values(ctx: ServiceContext, names: list[str]) -> bytes:
    """JSON `{address: entry}` for the names (as asked), read fresh from the cache by their keys; a name
    the cache holds only under the other protocol says so instead of matching it."""
    keys, get = channel_keys(ctx, names, "pv_names"), ctx.cache.get

    def entry(name: str) -> bytes:
        key = keys[name]
        state = get(key)
        if state is None and get(addresses.other_key(key)) is not None:
            return encode_unknown(f"{NOT_MONITORED}: {addresses.mix_up(name, key)}")
        return encode_entry(state)

    body, _ = await _encoder(ctx).encode_fresh(names, entry=entry)
    return body


async def all_live_values(ctx: ServiceContext) -> bytes:
    body, count = await _encoder(ctx).encode_fresh(ctx.cache.addresses())
    return b'{"values":' + body + b',"count":' + str(count).encode() + b"}"


def cache_status(ctx: ServiceContext) -> dict[str, Any]:
    """`{cachedPvCount, status, error}`: status "ok" while a monitor (ours or via Redis) feeds the cache."""
    error: str | None = None
    bridge = ctx.redis_bridge
    if ctx.monitor is None and isinstance(bridge, RedisConsumer):
        if not bridge.connected:
            error = bridge.last_error or "connecting to redis"
        elif not bridge.monitor_alive:
            error = "no monitor is publishing live values"
    elif ctx.monitor is None:
        error = "no monitor runs in this instance and no redis_url is configured"
    elif not _local_monitor_alive(ctx):
        error = "the monitor is not running"
    return {"cachedPvCount": len(ctx.cache), "status": "ok" if error is None else "unavailable", "error": error}


# --- subscriptions ---------------------------------------------------------------------------
async def resolve_selection(ctx: ServiceContext, pvs: list[str], tags: list[UUID], select_all: bool) -> set[str] | None:
    """The addresses a subscriber selects (None = all); tags resolve to their PVs' monitored addresses now."""
    if select_all:
        return None
    if not pvs and not tags:
        raise ValidationError("select live values with pvs=a,b, tags=<tag id>,... or all=true")
    selection = set(channel_keys(ctx, pvs, "pvs").values())
    if tags:
        async with connection(ctx.pool) as conn:
            known = await live_db.existing_tags(conn, tags)
            unknown = [str(t) for t in tags if t not in known]
            if unknown:
                raise ValidationError(f"tags: unknown tag id(s) {', '.join(unknown)}")
            selection |= await live_db.addresses_for_tags(conn, tags)
    return selection


def subscribe(ctx: ServiceContext, addresses: set[str] | None, kind: str) -> Subscriber:
    return broadcaster_of(ctx).subscribe(addresses, kind=kind)


def unsubscribe(ctx: ServiceContext, sub: Subscriber) -> None:
    broadcaster_of(ctx).unsubscribe(sub)


MAX_EVENT_ID_DIGITS = 18  # ids stay far below 10**18; longer "numbers" are not ids we sent


def parse_event_id(raw: str | None) -> int | None:
    """The id of a Last-Event-ID header, or None when it is not one we could have sent.

    ASCII digits only: str.isdigit() also accepts "²" and other Unicode digits that int() refuses."""
    text = (raw or "").strip()
    if not text or len(text) > MAX_EVENT_ID_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def sse_events(ctx: ServiceContext, sub: Subscriber, last_event_id: str | None) -> AsyncIterator[bytes]:
    """The SSE byte stream; after a reconnect the ids continue from Last-Event-ID (with a fresh initial).

    A bad Last-Event-ID is ignored (API.md): the stream starts afresh from id 1."""
    previous = parse_event_id(last_event_id)
    first_id = 1 if previous is None else previous + 1
    return live_stream(
        broadcaster_of(ctx),
        sub,
        first_id=first_id,
        heartbeat=ctx.settings.sse_heartbeat,
        min_interval=ctx.settings.sse_min_interval,
        monitor_alive=lambda: monitor_alive(ctx),
    )


def ws_session(ctx: ServiceContext, send: Callable[[bytes], Awaitable[None]]) -> WsSession:
    """A WebSocket protocol session subscribed to nothing yet; call close() when the socket ends."""
    return WsSession(
        broadcaster_of(ctx),
        send,
        heartbeat=ctx.settings.sse_heartbeat,
        min_interval=ctx.settings.sse_min_interval,
        monitor_alive=lambda: monitor_alive(ctx),
    )
