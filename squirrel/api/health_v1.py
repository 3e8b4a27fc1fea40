"""/v1/health/*: monitor and connection figures (old dialect, snake_case) and circuit breaker control."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath

from squirrel.api.common import principal_of
from squirrel.api.deps import CtxDep
from squirrel.services import monitoring


@get(
    "/v1/health/heartbeat",
    opt={"scope": "public"},
    tags=["health"],
    summary="Alive, and is the monitor running",
    description="`{timestamp, alive, age_seconds}` (+ `status`, `monitor_alive` outside envelope mode): the monitor "
    "ticks once a second, `age_seconds` is the time since its last tick (null without a monitor in this process) "
    "and `alive` is true when the monitor runs and `age_seconds < 5`.",
)
async def heartbeat(ctx: CtxDep) -> dict[str, Any]:
    return monitoring.heartbeat(ctx, gui_dialect=ctx.settings.api_envelope)


@get("/v1/health/summary", tags=["health"], summary="PV connection counts, stale PVs, update rate, uptime")
async def summary(ctx: CtxDep) -> dict[str, Any]:
    return monitoring.summary(ctx)


@get("/v1/health/monitor", tags=["health"], summary="The monitor's own figures")
async def monitor(ctx: CtxDep) -> dict[str, Any]:
    return monitoring.monitor_status(ctx)


@get("/v1/health/disconnected", tags=["health"], summary="Addresses that are not connected")
async def disconnected(ctx: CtxDep) -> dict[str, Any]:
    return monitoring.disconnected(ctx)


@get("/v1/health/stale", tags=["health"], summary="Connected addresses without a value (or too old, if configured)")
async def stale(ctx: CtxDep) -> dict[str, Any]:
    return monitoring.stale(ctx)


@get("/v1/health/circuits", tags=["health"], summary="Per-IOC circuit breakers")
async def circuits(ctx: CtxDep) -> dict[str, Any]:
    return monitoring.circuits(ctx)


@post(
    "/v1/health/circuits/{name:str}/open",
    opt={"scope": "admin"},
    status_code=200,
    tags=["health"],
    summary="Force a circuit open (its PVs are skipped)",
)
async def open_circuit(request: Request[Any, Any, Any], name: FromPath[str], ctx: CtxDep) -> dict[str, Any]:
    return await monitoring.force_circuit(ctx, principal_of(request), name, "open")


@post(
    "/v1/health/circuits/{name:str}/close",
    opt={"scope": "admin"},
    status_code=200,
    tags=["health"],
    summary="Force a circuit closed",
)
async def close_circuit(request: Request[Any, Any, Any], name: FromPath[str], ctx: CtxDep) -> dict[str, Any]:
    return await monitoring.force_circuit(ctx, principal_of(request), name, "close")


ROUTES = [heartbeat, summary, monitor, disconnected, stale, circuits, open_circuit, close_circuit]
