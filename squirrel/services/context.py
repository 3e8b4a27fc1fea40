"""The running service's parts, built once (build_context) and handed to every service call.

The context is imported by every service and by the CLI, which must not load libca or p4p for it: the
monitors are typed for the type checker only, and libca is configured only when the service builds its
context (not for a one-shot command). Everything else is the concrete class of a lower layer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from squirrel.db.embedded import EmbeddedPostgres
from squirrel.db.migrate import migrate
from squirrel.db.pool import SquirrelPool, make_pool, open_pool
from squirrel.db.supervisor import EmbeddedSupervisor
from squirrel.epics.breaker import BreakerSet
from squirrel.jobs.queue import JobQueue
from squirrel.live.broadcaster import Broadcaster
from squirrel.live.redis_bridge import RedisConsumer, RedisPublisher
from squirrel.pv import PVCache, stop_tasks
from squirrel.services import _gc as gc_clock
from squirrel.services._ratelimit import FailedAttemptLimiter
from squirrel.settings import Settings

if TYPE_CHECKING:  # the monitors load libca and p4p: a one-shot command needs neither
    from squirrel.epics.monitor import Monitor
    from squirrel.pva.monitor import PvaMonitor


@dataclass
class ServiceContext:
    settings: Settings
    pool: SquirrelPool
    conninfo: str
    breakers: BreakerSet  # one per process, shared by the monitor, bulk reads and writes
    cache: PVCache = field(default_factory=PVCache)
    db_supervisor: EmbeddedSupervisor | None = None  # only with the embedded database
    # Filled by the roles this process runs (start_roles); None otherwise.
    monitor: Monitor | None = None  # the Channel Access monitor (monitor role)
    pva_monitor: PvaMonitor | None = None  # its PVAccess peer
    monitor_tick: float | None = None  # time.time() of the CA monitor's last tick
    broadcaster: Broadcaster | None = None
    redis_bridge: RedisPublisher | RedisConsumer | None = None
    queue: JobQueue | None = None
    # Owned by services that live as long as the context; read by /metrics.
    auth_failures: FailedAttemptLimiter | None = None
    metrics_registry: CollectorRegistry | None = None


async def resolve_database(settings: Settings, stack: AsyncExitStack) -> str:
    """The conninfo to use: SQUIRREL_DATABASE_URL, or the embedded server (started here, stopped on exit)."""
    conninfo, _ = await open_database(settings, stack)
    return conninfo


async def open_database(settings: Settings, stack: AsyncExitStack) -> tuple[str, EmbeddedPostgres | None]:
    """resolve_database, plus the embedded server when it is ours (None with SQUIRREL_DATABASE_URL)."""
    if settings.database_url:
        return settings.database_url, None
    embedded = EmbeddedPostgres(settings.data_path)
    uri = await embedded.start_async()
    stack.callback(embedded.stop)
    return uri, embedded


async def supervise(embedded: EmbeddedPostgres, pool: SquirrelPool, stack: AsyncExitStack) -> EmbeddedSupervisor:
    """Restart the embedded server if it dies (stopped before the server is, on exit); the pool learns of
    the outage at once (fast 503s) and drops its dead connections once the server is back."""
    supervisor = EmbeddedSupervisor(embedded)
    supervisor.on_down.append(pool.mark_down)
    supervisor.on_up.extend([pool.mark_up, pool.drain])
    supervisor.start()
    stack.push_async_callback(supervisor.stop)
    return supervisor


@asynccontextmanager
async def build_context(settings: Settings, *, for_command: bool = False) -> AsyncIterator[ServiceContext]:
    """The database (resolved, migrated, pooled, supervised when embedded) and the context on it.

    The app lifespan and the CLI both build through here; starting the roles (monitor, live values,
    job queue) is the lifespan's next step, never a command's. A one-shot command (`for_command`)
    always migrates, takes a pool of 1-2 connections and leaves an embedded server unsupervised."""
    async with AsyncExitStack() as stack:
        conninfo, embedded = await open_database(settings, stack)
        if for_command or settings.migrate_on_start:
            await migrate(conninfo)
        size = (1, 2) if for_command else (settings.db_pool_min, settings.db_pool_max)
        pool = make_pool(conninfo, *size)
        await open_pool(pool)
        stack.push_async_callback(pool.close)
        ctx = ServiceContext(
            settings=settings,
            pool=pool,
            conninfo=conninfo,
            breakers=BreakerSet(settings.breaker_failures, settings.breaker_cooldown),
        )
        if embedded is not None and not for_command:
            ctx.db_supervisor = await supervise(embedded, pool, stack)
        if not for_command:
            from squirrel.epics import ca  # loads libca: the service's processes write, a command does not

            ca.set_put_window(settings.ca_put_window)
            # /metrics shows the collector's pauses from the start; the settler keeps them short.
            settler = asyncio.create_task(gc_clock.settle(gc_clock.install()))
            stack.push_async_callback(stop_tasks, [settler])
        yield ctx
