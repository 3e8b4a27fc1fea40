"""The monitor's lifecycle and the /v1/health figures (old dialect: snake_case, real numbers only)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AsyncExitStack
from typing import Any

from squirrel.addresses import Protocol, by_protocol, protocol_of
from squirrel.db import monitor as monitor_db
from squirrel.db.pool import connection
from squirrel.db.registry_listen import listener
from squirrel.epics.monitor import Monitor
from squirrel.errors import NotFoundError, ValidationError
from squirrel.model import Principal
from squirrel.pv import LoadRows, MonitorCore, PVState, Row
from squirrel.pva.monitor import PvaMonitor
from squirrel.services import audit
from squirrel.services.context import ServiceContext
from squirrel.services.live import monitor_alive

_STARTED = time.time()
TICK_INTERVAL = 1.0  # the monitor ticks once a second, whether or not PVs update
ALIVE_WITHIN = 5.0  # the heartbeat's `alive`: the last tick is younger than this


async def start_monitor(ctx: ServiceContext, stack: AsyncExitStack) -> Monitor:
    """Start the monitor on the registry (LISTEN squirrel_registry + periodic resync); stopped on exit."""
    breakers = ctx.breakers

    monitor = Monitor(ctx.cache, breakers, load_rows=_rows_of(ctx, "ca"), listen=listener(ctx.conninfo))
    await monitor.start()
    ctx.monitor = monitor
    ticker = asyncio.create_task(_tick(ctx, monitor))
    stack.push_async_callback(_stop, ctx, monitor, ticker)
    # The PVA peer (pva:// keys): p4p is imported only once such a key is registered.
    pva = PvaMonitor(ctx.cache, breakers, load_rows=_rows_of(ctx, "pva"), listen=listener(ctx.conninfo))
    await pva.start()
    ctx.pva_monitor = pva
    stack.push_async_callback(_stop_pva, ctx, pva)
    return monitor


def _rows_of(ctx: ServiceContext, protocol: Protocol) -> LoadRows:
    """Registry rows with only `protocol`'s keys: each monitor watches its own (a row re-addressed from
    CA to pva:// thus reads as "no CA address" to the CA monitor, which unsubscribes it)."""

    def only(address: str | None) -> str | None:
        return address if address is not None and protocol_of(address) == protocol else None

    async def load(ids: list[str] | None) -> list[Row]:
        return [(i, only(sp), only(rb)) for i, sp, rb in await monitor_db.monitored_rows(ctx.pool, ids)]

    return load


async def _stop_pva(ctx: ServiceContext, monitor: PvaMonitor) -> None:
    await monitor.stop()
    ctx.pva_monitor = None


async def _tick(ctx: ServiceContext, monitor: Monitor) -> None:
    """Stamp the time once a second while the monitor runs: a quiet registry is still alive, a stuck loop is not."""
    while monitor.running:
        ctx.monitor_tick = time.time()
        await asyncio.sleep(TICK_INTERVAL)


async def _stop(ctx: ServiceContext, monitor: Monitor, ticker: asyncio.Task[None]) -> None:
    ticker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ticker
    await monitor.stop()
    ctx.monitor = None
    ctx.monitor_tick = None


async def wait_warm(
    ctx: ServiceContext,
    addresses: Iterable[str],
    on_wait: Callable[[int], Awaitable[None]] | None = None,
    poll: float = 0.1,
) -> list[str]:
    """Wait until the local monitors are warm for `addresses` (API.md: each delivered its first value, or
    has been subscribed for SQUIRREL_SNAPSHOT_WARMUP s without one, so a dead PV costs that once per
    monitor start): CA addresses by the CA monitor, pva:// keys by the PVA monitor. An address not
    subscribed yet (registered a moment ago) is waited for at most the warm-up from now. `on_wait(n)` is
    told once how many are cold when there is a wait at all. Returns the addresses still cold ([] = warm;
    also when no monitor runs here)."""
    monitors: dict[str, MonitorCore[Any] | None] = {"ca": ctx.monitor, "pva": ctx.pva_monitor}
    warmup = ctx.settings.snapshot_warmup
    give_up = time.monotonic() + warmup

    def running(protocol: Protocol) -> MonitorCore[Any] | None:
        m = monitors[protocol]
        return m if m is not None and m.running else None

    def cold(candidates: Iterable[str]) -> list[str]:
        now = time.monotonic()
        out: list[str] = []
        for protocol, keys in by_protocol(candidates).items():
            if keys and (m := running(protocol)) is not None:
                out += m.cold(keys, warmup, now)
        return out

    pending = cold(dict.fromkeys(addresses))
    if pending and on_wait is not None:
        await on_wait(len(pending))
    while pending:
        if time.monotonic() >= give_up and not any(
            (m := running(protocol_of(a))) is not None and m.watching(a) for a in pending
        ):
            break  # never subscribed (the registry resync keeps failing): the wait stays bounded
        await asyncio.sleep(poll)
        pending = cold(pending)
    return pending


def is_stale(state: PVState, now: float, max_age: float) -> bool:
    """Connected but no value since the (re)connect, or (when configured) no news for max_age seconds.

    CA monitors fire on change only, so a healthy static PV is never stale unless a max age is set.
    """
    if not state.connected:
        return False
    if not state.has_value:
        return True
    return max_age > 0 and state.updated_at is not None and now - state.updated_at > max_age


def tick_age(ctx: ServiceContext, now: float) -> float | None:
    """Seconds since the local monitor's last tick; None when this process runs no monitor."""
    tick = ctx.monitor_tick
    if ctx.monitor is None or tick is None:
        return None
    return max(0.0, now - tick)


def heartbeat(ctx: ServiceContext, gui_dialect: bool = False) -> dict[str, Any]:
    """{timestamp, alive, age_seconds}: alive = the monitor runs and ticked within ALIVE_WITHIN seconds.

    The released GUI (envelope mode) gets exactly those fields; otherwise `status` and `monitor_alive` too.
    """
    now = time.time()
    age = tick_age(ctx, now)
    m = ctx.monitor
    alive = m is not None and m.running and age is not None and age < ALIVE_WITHIN
    beat: dict[str, Any] = {"timestamp": now, "alive": alive, "age_seconds": round(age, 3) if age is not None else None}
    if gui_dialect:
        return beat
    return {"status": "ok", "monitor_alive": monitor_alive(ctx), **beat}


def summary(ctx: ServiceContext) -> dict[str, Any]:
    now = time.time()
    m, p = ctx.monitor, ctx.pva_monitor
    counts = _summary_counts(ctx, now)
    total, connected = counts["total_pvs"], counts["connected"]
    return {
        "status": "ok" if monitor_alive(ctx) and connected == total else "degraded",
        "timestamp": now,
        **counts,
        "connection_rate": round(connected / total, 4) if total else 1.0,
        "monitor_alive": monitor_alive(ctx),
        "updates_per_s": round((m.updates_per_s if m else 0.0) + (p.updates_per_s if p else 0.0), 1),
        "total_updates": ctx.cache.total_updates,
        "open_circuits": ctx.breakers.open_count(),
        "uptime_s": round(now - _STARTED, 1),
    }


def _summary_counts(ctx: ServiceContext, now: float) -> dict[str, int]:
    """Connection counts; `suspect`: connected PVs of an IOC whose direct reads/writes time out."""
    max_age, breakers = ctx.settings.stale_max_age, ctx.breakers
    suspect_servers = breakers.suspect_servers()
    total = connected = stale = suspect = 0
    for state in ctx.cache:
        total += 1
        if state.connected:
            connected += 1
            if is_stale(state, now, max_age):
                stale += 1
            if suspect_servers:
                suspect += (state.server or breakers.server_of(state.address)) in suspect_servers
    return {
        "total_pvs": total,
        "connected": connected,
        "disconnected": total - connected,
        "stale": stale,
        "suspect": suspect,
    }


def monitor_status(ctx: ServiceContext) -> dict[str, Any]:
    m = ctx.monitor
    counts = ctx.cache.counts()
    out: dict[str, Any] = {
        "monitor_alive": monitor_alive(ctx),
        "role": "local" if m is not None else ("remote" if ctx.redis_bridge is not None else "none"),
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
            full_resyncs=m.full_resyncs,
            incremental_applies=m.incremental_applies,
        )
    p = ctx.pva_monitor
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
    states = ctx.breakers.states()
    return {"circuits": states, "count": len(states), "open": sum(1 for c in states if c["state"] == "open")}


async def force_circuit(ctx: ServiceContext, principal: Principal, name: str, action: str) -> dict[str, Any]:
    """Force a circuit open or closed (admin); audited. Unknown circuit names are a 404."""
    breakers = ctx.breakers
    if name not in breakers:
        known = ", ".join(b["name"] for b in breakers.states()) or "none"
        raise NotFoundError(f"circuit {name!r} not found (known circuits: {known})")
    if action not in ("open", "close"):
        raise ValidationError(f"unknown circuit action {action!r}; use open or close")
    result = breakers.force_open(name) if action == "open" else breakers.force_close(name)
    async with connection(ctx.pool) as conn:
        await audit.record(conn, principal, f"circuit.{action}", "circuit", name, f"forced circuit {name} {action}")
    return result
