"""`monitor_alive`: is a monitor feeding this process's cache (ours, or a remote one behind Redis)?"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from squirrel.db.pool import make_pool
from squirrel.epics.breaker import BreakerSet
from squirrel.epics.monitor import Monitor
from squirrel.live.broadcaster import Broadcaster
from squirrel.live.redis_bridge import RedisConsumer, RedisPublisher
from squirrel.services import live, monitoring
from squirrel.services.context import ServiceContext
from squirrel.settings import load_settings

URL = "postgresql://nobody@127.0.0.1:1/none"  # never opened: these figures read no database


@pytest.fixture
async def ctx() -> AsyncIterator[ServiceContext]:
    settings = load_settings({}, database_url=URL, roles=["api", "monitor"])
    pool = make_pool(URL, 1, 1)
    yield ServiceContext(settings=settings, pool=pool, conninfo=URL, breakers=BreakerSet())


def _publisher(ctx: ServiceContext, alive: bool) -> RedisPublisher:
    return RedisPublisher(ctx.cache, Broadcaster(ctx.cache, queue_size=8), "redis://127.0.0.1:1", lambda: alive)


async def test_a_stopped_monitor_is_not_alive_behind_a_publisher(ctx: ServiceContext) -> None:
    # A monitor + Redis process whose monitor stopped (ctx.monitor is cleared on stop): the publisher's
    # `monitor_alive` is a callable about that same monitor, and a callable is always truthy.
    ctx.redis_bridge = _publisher(ctx, alive=False)
    assert ctx.monitor is None
    assert monitoring.monitor_alive(ctx) is False
    assert live.monitor_alive(ctx) is False
    assert monitoring.heartbeat(ctx)["monitor_alive"] is False
    summary = monitoring.summary(ctx)
    assert summary["monitor_alive"] is False and summary["status"] == "degraded"
    assert monitoring.monitor_status(ctx)["monitor_alive"] is False


async def test_the_local_monitor_answers_while_attached(ctx: ServiceContext) -> None:
    monitor = Monitor(ctx.cache, ctx.breakers)
    ctx.monitor = monitor
    assert monitoring.monitor_alive(ctx) is False  # attached but not started
    ctx.redis_bridge = _publisher(ctx, alive=True)
    assert monitoring.monitor_alive(ctx) is False  # the local monitor decides, not the bridge
    assert monitoring.heartbeat(ctx)["alive"] is False and monitoring.tick_age(ctx, time.time()) is None
    status = monitoring.monitor_status(ctx)
    assert status["role"] == "local" and status["subscribed"] == 0
    # The sync figures are reported under their own names.
    assert status["resyncs"] == 0 and status["initial_sync_s"] is None and "incremental_applies" in status


async def test_a_consumer_speaks_for_the_remote_monitor(ctx: ServiceContext) -> None:
    consumer = RedisConsumer(ctx.cache, None, "redis://127.0.0.1:1")
    ctx.redis_bridge = consumer
    assert monitoring.monitor_alive(ctx) is False
    consumer.connected, consumer.remote_alive, consumer.last_message = True, True, time.monotonic()
    assert monitoring.monitor_alive(ctx) is True
    assert monitoring.monitor_status(ctx)["role"] == "remote"
    assert live.cache_status(ctx)["status"] == "ok"


async def test_no_monitor_and_no_bridge(ctx: ServiceContext) -> None:
    assert monitoring.monitor_alive(ctx) is False
    assert monitoring.monitor_status(ctx)["role"] == "none"
    assert live.cache_status(ctx)["status"] == "unavailable"
