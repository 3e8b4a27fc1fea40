"""The monitor's lifecycle and the /v1/health figures (old dialect: snake_case, real numbers only)."""

from __future__ import annotations

import os
import time
from contextlib import AsyncExitStack
from typing import Any

from squirrel.addresses import protocol_of
from squirrel.db import monitor as monitor_db
from squirrel.db.pool import connection
from squirrel.epics.breaker import BreakerSet
from squirrel.epics.cache import PVState
from squirrel.epics.monitor import Monitor
from squirrel.errors import NotFoundError, ValidationError
from squirrel.model import Principal
from squirrel.pva.monitor import PvaMonitor
from squirrel.services import audit
from squirrel.services.context import ServiceContext

_STARTED = time.time()


def ensure_breakers(ctx: ServiceContext) -> BreakerSet:
    """The one BreakerSet of this process, shared by the monitor, bulk reads and writes."""
    if not isinstance(ctx.breakers, BreakerSet):
        ctx.breakers = BreakerSet(ctx.settings.breaker_failures, ctx.settings.breaker_cooldown)
    return ctx.breakers


async def start_monitor(ctx: ServiceContext, stack: AsyncExitStack) -> Monitor:
    """Start the monitor on the registry (LISTEN squirrel_registry + periodic resync); stopped on exit."""
    breakers = ensure_breakers(ctx)

    async def load() -> set[str]:
        return {a for a in await monitor_db.monitored_addresses(ctx.pool) if protocol_of(a) == "ca"}

    async def load_pva() -> set[str]:
        return {a for a in await monitor_db.monitored_addresses(ctx.pool) if protocol_of(a) == "pva"}

    monitor = Monitor(ctx.cache, breakers, load_addresses=load, conninfo=ctx.extras.get("conninfo"))
    await monitor.start()
    ctx.monitor = monitor
    stack.push_async_callback(_stop, ctx, monitor)
    # The PVA peer (pva:// keys): p4p is imported only once such a key is registered.
    pva = PvaMonitor(ctx.cache, breakers, load_addresses=load_pva, conninfo=ctx.extras.get("conninfo"))
    await pva.start()
    ctx.extras["pva_monitor"] = pva
    stack.push_async_callback(_stop_pva, ctx, pva)
    return monitor


async def _stop_pva(ctx: ServiceContext, monitor: PvaMonitor) -> None:
    await monitor.stop()
    ctx.extras.pop("pva_monitor", None)


def pva_monitor(ctx: ServiceContext) -> PvaMonitor | None:
    m = ctx.extras.get("pva_monitor")
    return m if isinstance(m, PvaMonitor) else None


async def _stop(ctx: ServiceContext, monitor: Monitor) -> None:
    await monitor.stop()
    ctx.monitor = None


def _monitor(ctx: ServiceContext) -> Monitor | None:
    return ctx.monitor if isinstance(ctx.monitor, Monitor) else None


def monitor_alive(ctx: ServiceContext) -> bool:
    m = _monitor(ctx)
    if m is not None:
        return m.running
    bridge = ctx.extras.get("redis_bridge")  # an API-only instance fed by a remote monitor
    return bool(getattr(bridge, "monitor_alive", False))


def is_stale(state: PVState, now: float, max_age: float) -> bool:
    """Connected but no value since the (re)connect, or (when configured) no news for max_age seconds.

    CA monitors fire on change only, so a healthy static PV is never stale unless a max age is set.
    """
    if not state.connected:
        return False
    if not state.has_value:
        return True
    return max_age > 0 and state.updated_at is not None and now - state.updated_at > max_age


def heartbeat(ctx: ServiceContext) -> dict[str, Any]:
    return {"status": "ok", "timestamp": time.time(), "monitor_alive": monitor_alive(ctx)}


def summary(ctx: ServiceContext) -> dict[str, Any]:
    now = time.time()
    max_age = ctx.settings.stale_max_age
    total = connected = stale = 0
    for state in ctx.cache:
        total += 1
        if state.connected:
            connected += 1
            if is_stale(state, now, max_age):
                stale += 1
    m, p = _monitor(ctx), pva_monitor(ctx)
    breakers = ctx.breakers if isinstance(ctx.breakers, BreakerSet) else None
    return {
        "status": "ok" if monitor_alive(ctx) and connected == total else "degraded",
        "timestamp": now,
        "total_pvs": total,
        "connected": connected,
        "disconnected": total - connected,
        "stale": stale,
        "connection_rate": round(connected / total, 4) if total else 1.0,
        "monitor_alive": monitor_alive(ctx),
        "updates_per_s": round((m.updates_per_s if m else 0.0) + (p.updates_per_s if p else 0.0), 1),
        "total_updates": ctx.cache.total_updates,
        "open_circuits": breakers.open_count() if breakers else 0,
        "uptime_s": round(now - _STARTED, 1),
    }


def monitor_status(ctx: ServiceContext) -> dict[str, Any]:
    m = _monitor(ctx)
    counts = ctx.cache.counts()
    out: dict[str, Any] = {
        "monitor_alive": monitor_alive(ctx),
        "role": "local" if m is not None else ("remote" if ctx.extras.get("redis_bridge") else "none"),
        "total_pvs": counts["total"],
        "connected": counts["connected"],
        "disconnected": counts["disconnected"],
        "total_updates": ctx.cache.total_updates,
        "pid": os.getpid(),
    }
    if m is not None:
        out.update(
            subscribed=m.subscribed,
            updates_per_s=round(m.updates_per_s, 1),
            callback_errors=m.errors,
            started_at=m.started_at,
            uptime_s=round(time.time() - m.started_at, 1) if m.started_at else None,
            initial_sync_s=m.initial_sync_s,
            all_connected_s=m.all_connected_s,
            last_sync_at=m.last_sync_at,
            resyncs=m.resyncs,
        )
    p = pva_monitor(ctx)
    if p is not None:
        out["pva"] = p.status()  # PVAccess subscriptions, including structures marked unsupported
    return out


def disconnected(ctx: ServiceContext) -> dict[str, Any]:
    names = sorted(s.address for s in ctx.cache if not s.connected)
    return {"disconnected_pvs": names, "count": len(names)}


def stale(ctx: ServiceContext) -> dict[str, Any]:
    now, max_age = time.time(), ctx.settings.stale_max_age
    names = sorted(s.address for s in ctx.cache if is_stale(s, now, max_age))
    return {"stale_pvs": names, "count": len(names), "max_age_s": max_age}


def circuits(ctx: ServiceContext) -> dict[str, Any]:
    states = ensure_breakers(ctx).states()
    return {"circuits": states, "count": len(states), "open": sum(1 for c in states if c["state"] == "open")}


async def force_circuit(ctx: ServiceContext, principal: Principal, name: str, action: str) -> dict[str, Any]:
    """Force a circuit open or closed (admin); audited. Unknown circuit names are a 404."""
    breakers = ensure_breakers(ctx)
    if name not in breakers:
        known = ", ".join(b["name"] for b in breakers.states()) or "none"
        raise NotFoundError(f"circuit {name!r} not found (known circuits: {known})")
    if action not in ("open", "close"):
        raise ValidationError(f"unknown circuit action {action!r}; use open or close")
    result = breakers.force_open(name) if action == "open" else breakers.force_close(name)
    async with connection(ctx.pool) as conn:
        await audit.record(conn, principal, f"circuit.{action}", "circuit", name, f"forced circuit {name} {action}")
    return result
