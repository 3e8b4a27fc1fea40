"""Liveness and readiness probes (public)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect, Response

from squirrel.api.deps import CtxDep
from squirrel.services import health


@get("/healthz", opt={"scope": "public"}, tags=["health"], summary="Process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


_READY = "{ready, checks: {database, monitor, worker}}"


@get(
    "/readyz",
    opt={"scope": "public"},
    tags=["health"],
    summary="Database, monitor and worker are ready",
    responses={
        200: ResponseSpec(dict[str, Any], description=f"ready: {_READY}", generate_examples=False),
        503: ResponseSpec(dict[str, Any], description=f"not ready: {_READY}", generate_examples=False),
    },
)
async def readyz(ctx: CtxDep) -> Response[dict[str, Any]]:
    report = await health.readiness(ctx)
    return Response(report, status_code=200 if report["ready"] else 503)


@get("/", opt={"scope": "public"}, include_in_schema=False)
async def root(request: Request[Any, Any, Any]) -> Response[dict[str, str]] | Redirect:
    # A browser (Accept: text/html) goes to the console; API clients keep getting JSON.
    if "text/html" in request.headers.get("accept", ""):
        return Redirect("/ui/", status_code=303)
    return Response({"service": "squirrel", "api": "/v1", "schema": "/schema", "console": "/ui/"})


ROUTES = [healthz, readyz, root]
