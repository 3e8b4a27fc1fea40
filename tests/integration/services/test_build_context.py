"""build_context(): the one wiring of database, pool and context, for the app lifespan and the CLI."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from squirrel.app import create_app
from squirrel.epics.breaker import BreakerSet
from squirrel.services.context import build_context
from tests.conftest import make_settings
from tests.support.postgres import DatabaseFactory

_names = itertools.count()


@pytest.fixture
def empty_url(pg: DatabaseFactory) -> Iterator[str]:
    """A database with no schema at all (the usual ones are copies of a migrated template)."""
    name = f"t_empty_{os.getpid()}_{next(_names)}"
    with psycopg.connect(pg.admin_uri, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    info = psycopg.conninfo.conninfo_to_dict(pg.admin_uri)
    info["dbname"] = name
    yield psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]
    pg.drop(psycopg.conninfo.make_conninfo(**info))  # type: ignore[arg-type]


async def _tables(url: str) -> set[str]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in await cur.fetchall()}


async def test_a_command_context_is_migrated_small_and_starts_no_role(empty_url: str) -> None:
    settings = make_settings(empty_url, migrate_on_start=False, roles=["api", "monitor", "worker"])
    async with build_context(settings, for_command=True) as ctx:
        assert "schema_migrations" in await _tables(empty_url)  # a command always migrates
        assert ctx.conninfo == empty_url and ctx.settings is settings
        assert ctx.pool.max_size == 2
        assert isinstance(ctx.breakers, BreakerSet)
        # No monitor, no live values, no job queue: starting roles is the lifespan's step alone.
        assert ctx.monitor is None and ctx.pva_monitor is None and ctx.monitor_tick is None
        assert ctx.broadcaster is None and ctx.redis_bridge is None and ctx.queue is None
        assert ctx.db_supervisor is None  # external database: nothing to supervise
        async with ctx.pool.connection() as conn:
            assert (await (await conn.execute("SELECT 1")).fetchone()) == (1,)
        pool = ctx.pool
    assert pool.closed


async def test_the_server_context_follows_the_settings(empty_url: str) -> None:
    settings = make_settings(empty_url, migrate_on_start=False, db_pool_min=1, db_pool_max=3)
    async with build_context(settings) as ctx:
        assert "schema_migrations" not in await _tables(empty_url)  # SQUIRREL_MIGRATE_ON_START=false
        assert ctx.pool.max_size == 3
    from squirrel.epics._window import PUT_WINDOW, ServerWindow
    from squirrel.epics.ca import set_put_window

    try:
        async with build_context(make_settings(empty_url, migrate_on_start=False, ca_put_window=40)):
            assert ServerWindow().limit == 40  # SQUIRREL_CA_PUT_WINDOW reaches every channel pool
    finally:
        set_put_window(PUT_WINDOW)
    async with build_context(make_settings(empty_url, db_pool_min=1, db_pool_max=3)):
        assert "schema_migrations" in await _tables(empty_url)


async def test_the_lifespan_builds_the_context_the_handlers_receive(database_url: str) -> None:
    app = create_app(make_settings(database_url, roles=["api", "worker"], anonymous="read"))
    async with AsyncTestClient(app) as client:
        ctx = app.state.ctx
        assert ctx.conninfo == database_url
        assert ctx.queue is not None and ctx.queue.running and ctx.queue.conninfo == database_url
        assert ctx.broadcaster is not None and ctx.monitor is None
        # The context injected into handlers is the lifespan's: a circuit opened in it is served.
        ctx.breakers.record_failure("ioc-a:5064")
        ctx.breakers.force_open("ioc-a:5064")
        circuits = (await client.get("/v1/health/circuits")).json()
        assert [c["name"] for c in circuits["circuits"]] == ["ioc-a:5064"] and circuits["open"] == 1
        ready = (await client.get("/readyz")).json()
        assert ready["checks"] == {"database": "ok", "worker": "ok"}
