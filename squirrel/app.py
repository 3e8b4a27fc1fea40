"""create_app(settings): the one Litestar application and the lifespan that owns every part."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import structlog
from litestar import Litestar
from litestar.config.cors import CORSConfig

from squirrel import __version__
from squirrel.api import docs, strict
from squirrel.api.auth import scope_guard
from squirrel.api.methods import http_methods
from squirrel.api.middleware import envelope_middleware, request_log_middleware
from squirrel.api.problems import EXCEPTION_HANDLERS
from squirrel.api.routes import all_routes
from squirrel.db.embedded import EmbeddedPostgres
from squirrel.db.migrate import migrate
from squirrel.db.pool import SquirrelPool, make_pool, open_pool
from squirrel.db.supervisor import EmbeddedSupervisor
from squirrel.services.context import ServiceContext
from squirrel.services.keys import KeyService
from squirrel.settings import Settings, apply_ca_environment
from squirrel.ui import template_config, ui_routes

log = structlog.get_logger(__name__)
DEFAULT_BODY_LIMIT = 1_000_000  # 1 MB; bulk routes raise it to 64 MB on the handler


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


def create_app(settings: Settings) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            conninfo, embedded = await open_database(settings, stack)
            if settings.migrate_on_start:
                await migrate(conninfo)
            pool = make_pool(conninfo, settings.db_pool_min, settings.db_pool_max)
            await open_pool(pool)
            stack.push_async_callback(pool.close)
            ctx = ServiceContext(settings=settings, pool=pool)
            ctx.extras["conninfo"] = conninfo
            if embedded is not None:
                ctx.extras["db_supervisor"] = await supervise(embedded, pool, stack)
            app.state.ctx = ctx
            app.state.key_service = KeyService(ctx)
            apply_ca_environment(settings)  # before the first CA call makes the context
            await start_roles(ctx, stack)
            log.info("squirrel started", roles=list(settings.roles), version=__version__)
            yield
            log.info("squirrel stopping")

    route_handlers: list[Any] = [*all_routes(), *ui_routes(), *docs.asset_routers()]
    middleware: list[Any] = [request_log_middleware]
    app = Litestar(
        route_handlers=route_handlers,
        lifespan=[lifespan],
        guards=[scope_guard],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=middleware,
        cors_config=cors_config(settings),
        request_max_body_size=DEFAULT_BODY_LIMIT,
        template_config=template_config(),
        openapi_config=docs.openapi_config(
            "Squirrel", __version__, "Save, compare and restore for EPICS control systems."
        ),
        debug=False,
        logging_config=None,  # logging is ours (structlog); Litestar would install its own handlers
    )
    docs.document_security(app)
    strict.install(app)
    # Outside routing, so that routing errors are enveloped too and HEAD/OPTIONS are seen before the router.
    handler: Any = app.asgi_handler
    if settings.api_envelope:
        handler = envelope_middleware(handler)
    outer: Any = http_methods(app, handler)
    app.asgi_handler = outer
    return app


def cors_config(settings: Settings) -> CORSConfig | None:
    """Browser origins allowed to call the API. `*` never goes with credentials: with them, any site
    (even `Origin: null`) would be answered as if it were the signed-in console."""
    if not settings.cors_origins:
        return None
    wildcard = "*" in settings.cors_origins
    return CORSConfig(allow_origins=list(settings.cors_origins), allow_credentials=not wildcard, allow_headers=["*"])


async def start_roles(ctx: ServiceContext, stack: AsyncExitStack) -> None:
    """Start the monitor, live broadcaster and job worker for the roles this process runs."""
    from squirrel.services.monitoring import ensure_breakers, start_monitor

    ensure_breakers(ctx)  # one BreakerSet shared by the monitor, bulk reads and writes
    if ctx.settings.has_role("monitor"):
        await start_monitor(ctx, stack)
    # Live values: the broadcaster for api processes, plus the Redis bridge when SQUIRREL_REDIS_URL is set.
    from squirrel.services.live import start_live

    await start_live(ctx, stack)
    # Job queue: every process can enqueue; the worker role also runs jobs, crash recovery and schedules.
    from squirrel.services.jobs import start_job_queue

    await start_job_queue(ctx, stack)
