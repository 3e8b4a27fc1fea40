"""A real ServiceContext on this test's own migrated database (what the services are handed at run time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from squirrel.services.context import ServiceContext, build_context
from tests.conftest import make_settings


@pytest.fixture
async def ctx(database_url: str) -> AsyncIterator[ServiceContext]:
    """The command context: migrated, a pool of 1-2 connections, no role started."""
    async with build_context(make_settings(database_url, migrate_on_start=False), for_command=True) as context:
        yield context


@pytest.fixture
async def queued_ctx(ctx: ServiceContext) -> AsyncIterator[ServiceContext]:
    """`ctx` with an enqueue-only job queue (no worker: enqueued jobs stay pending)."""
    from squirrel.services.jobs import start_job_queue

    async with AsyncExitStack() as stack:
        await start_job_queue(ctx, stack)
        yield ctx
    ctx.queue = None
