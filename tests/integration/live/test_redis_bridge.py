"""The Redis bridge alone (two caches, a real Valkey): batching, removal, and recovery after a restart."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import pytest
from redis import asyncio as aioredis

from squirrel.live.broadcaster import Broadcaster
from squirrel.live.redis_bridge import RedisConsumer, RedisKeys, RedisPublisher
from squirrel.pv import PVCache
from tests.support.server import feed

KEYS = RedisKeys.of()


def start_valkey(factory: Callable[..., Any], **kw: Any) -> Any:
    try:
        return factory(**kw)
    except Exception as exc:
        pytest.skip(f"no embedded Valkey server could start: {exc}")


async def eventually(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not cond():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


def same(a: PVCache, b: PVCache, address: str, value: Any) -> Callable[[], bool]:
    return lambda: (s := b.get(address)) is not None and s.value == value and a.get(address) is not None


async def test_publish_batches_and_consumer_follows(valkey_server_factory: Callable[..., Any]) -> None:
    server = start_valkey(valkey_server_factory)
    url = f"redis://127.0.0.1:{server.port}"
    src, dst = PVCache(), PVCache()
    b_src, b_dst = Broadcaster(src), Broadcaster(dst)
    for i in range(3):
        feed(src, f"R:{i}", float(i))
    publisher = RedisPublisher(src, b_src, url, lambda: True)
    consumer = RedisConsumer(dst, b_dst, url)
    raw = aioredis.Redis.from_url(url)
    listener = raw.pubsub()
    await listener.subscribe(KEYS.channel)
    b_src.start()
    publisher.start()
    consumer.start()
    try:
        await eventually(same(src, dst, "R:2", 2.0))  # loaded from the mirrored hash
        assert await raw.hlen(KEYS.hash) == 3
        while await listener.get_message(ignore_subscribe_messages=True, timeout=0.05) is not None:
            pass  # forget what was published so far
        for i in range(200):  # 200 PVs changed at once: one message, not 200
            feed(src, f"R:{i}", float(i) + 0.5)
        feed(src, "R:NAN", math.nan)
        b_src.wake()
        await eventually(lambda: (s := dst.get("R:199")) is not None and s.value == 199.5)
        messages = []
        while (m := await listener.get_message(ignore_subscribe_messages=True, timeout=0.2)) is not None:
            messages.append(m)
        assert 1 <= len(messages) <= 3
        assert math.isnan(dst.get("R:NAN").value)  # type: ignore[union-attr]
        assert dst.get("R:5").units == src.get("R:5").units  # type: ignore[union-attr]

        src.discard("R:0")  # removal reaches the hash and the consumer within the sweep period
        await eventually(lambda: "R:0" not in dst, 5)
        assert not await raw.hexists(KEYS.hash, "R:0")
        assert consumer.monitor_alive and publisher.connected
    finally:
        await listener.aclose()  # type: ignore[no-untyped-call]
        await raw.aclose()
        await consumer.stop()
        await publisher.stop()
        await b_src.stop()


async def test_both_sides_recover_after_a_valkey_restart(valkey_server_factory: Callable[..., Any]) -> None:
    server = start_valkey(valkey_server_factory)
    port = server.port
    url = f"redis://127.0.0.1:{port}"
    src, dst = PVCache(), PVCache()
    b_src, b_dst = Broadcaster(src), Broadcaster(dst)
    feed(src, "R:A", 1.0)
    publisher = RedisPublisher(src, b_src, url, lambda: True)
    consumer = RedisConsumer(dst, b_dst, url)
    b_src.start()
    publisher.start()
    consumer.start()
    try:
        await eventually(same(src, dst, "R:A", 1.0))
        server.stop()
        await eventually(lambda: not consumer.connected, 15)
        assert not consumer.monitor_alive
        feed(src, "R:A", 2.0)  # changes while Redis is down are not lost
        feed(src, "R:B", 3.0)
        start_valkey(valkey_server_factory, port=port)
        await eventually(same(src, dst, "R:B", 3.0), 30)
        assert dst.get("R:A").value == 2.0  # type: ignore[union-attr]
        assert consumer.errors >= 1 and consumer.reloads >= 2
    finally:
        await consumer.stop()
        await publisher.stop()
        await b_src.stop()


async def test_namespaces_keep_deployments_apart(valkey_server_factory: Callable[..., Any]) -> None:
    server = start_valkey(valkey_server_factory)
    url = f"redis://127.0.0.1:{server.port}"
    src, same_ns, other_ns = PVCache(), PVCache(), PVCache()
    b_src = Broadcaster(src)
    feed(src, "NS:1", 1.0)
    publisher = RedisPublisher(src, b_src, url, lambda: True, RedisKeys.of("site-a"))
    mine = RedisConsumer(same_ns, None, url, RedisKeys.of("site-a"))
    theirs = RedisConsumer(other_ns, None, url, RedisKeys.of("site-b"))
    b_src.start()
    for part in (publisher, mine, theirs):
        part.start()
    try:
        await eventually(same(src, same_ns, "NS:1", 1.0))
        feed(src, "NS:1", 2.0)
        b_src.wake()
        await eventually(same(src, same_ns, "NS:1", 2.0))
        assert len(other_ns) == 0 and not theirs.monitor_alive
    finally:
        for part in (theirs, mine, publisher):
            await part.stop()
        await b_src.stop()
