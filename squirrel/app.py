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
from squirrel.api.deps import DEPENDENCIES
from squirrel.api.methods import http_methods
from squirrel.api.middleware import envelope_middleware, request_log_middleware
from squirrel.api.problems import EXCEPTION_HANDLERS
from squirrel.api.routes import all_routes
from squirrel.services.context import ServiceContext, build_context
from squirrel.services.keys import KeyService
from squirrel.settings import Settings, apply_ca_environment
from squirrel.ui import template_config, ui_routes

log = structlog.get_logger(__name__)
DEFAULT_BODY_LIMIT = 1_000_000  # 1 MB; bulk routes raise it to 64 MB on the handler


def create_app(settings: Settings) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            ctx = await stack.enter_async_context(build_context(settings))
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
        dependencies=DEPENDENCIES,
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
    from squirrel.services.monitoring import start_monitor

    if ctx.settings.has_role("monitor"):
        await start_monitor(ctx, stack)
    # Live values: the broadcaster for api processes, plus the Redis bridge when SQUIRREL_REDIS_URL is set.
    from squirrel.services.live import start_live

    await start_live(ctx, stack)
    # Job queue: every process can enqueue; the worker role also runs jobs, crash recovery and schedules.
    from squirrel.services.jobs import start_job_queue

    await start_job_queue(ctx, stack)
