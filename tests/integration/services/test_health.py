"""Readiness: the database answers, and each role this process runs is up."""

from __future__ import annotations

from squirrel.services import health
from squirrel.services.context import ServiceContext
from tests.conftest import make_settings
from tests.support.postgres import DatabaseFactory, set_outage


async def test_an_api_process_is_ready_when_its_database_answers(ctx: ServiceContext) -> None:
    assert await health.readiness(ctx) == {"ready": True, "checks": {"database": "ok"}}


async def test_each_role_without_its_part_is_down(ctx: ServiceContext) -> None:
    ctx.settings = make_settings(ctx.conninfo, roles=["api", "monitor", "worker"])
    assert await health.readiness(ctx) == {
        "ready": False,
        "checks": {"database": "ok", "monitor": "down", "worker": "down"},
    }


async def test_a_worker_with_its_queue_running_is_ready(queued_ctx: ServiceContext) -> None:
    queued_ctx.settings = make_settings(queued_ctx.conninfo, roles=["api", "worker"])
    assert await health.readiness(queued_ctx) == {"ready": True, "checks": {"database": "ok", "worker": "ok"}}


async def test_a_database_outage_is_reported_with_its_reason(
    ctx: ServiceContext, pg: DatabaseFactory, database_url: str
) -> None:
    set_outage(pg, database_url, down=True)
    try:
        ready = await health.readiness(ctx)
    finally:
        set_outage(pg, database_url, down=False)
    assert ready["ready"] is False
    # The check names why, in the words of the pool's 503 (SquirrelError.detail), not "ok".
    assert ready["checks"]["database"].startswith("database unavailable: ")
    assert await health.readiness(ctx) == {"ready": True, "checks": {"database": "ok"}}
