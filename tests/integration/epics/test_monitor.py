"""The embedded monitor against real caproto IOCs: IOC -> cache -> /v1/health, registry followed live."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from squirrel.epics import _channels as channels
from squirrel.epics.ca import write_many
from squirrel.pv import PVCache
from squirrel.tools.sim import SimHandle
from tests.conftest import Api
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("ca_purge")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"roles": ["api", "monitor"], "breaker_failures": 2, "breaker_cooldown": 60.0}


async def register(database_url: str, pairs: list[tuple[str | None, str | None]]) -> None:
    """Registry rows straight in SQL plus the notification the registry code sends on every change."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        for sp, rb in pairs:
            await conn.execute("INSERT INTO pv (setpoint_address, readback_address) VALUES (%s, %s)", (sp, rb))
        await conn.execute("SELECT pg_notify('squirrel_registry', '')")


async def unregister(database_url: str, setpoint: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("UPDATE pv SET deleted_at = now() WHERE setpoint_address = %s", (setpoint,))
        await conn.execute("SELECT pg_notify('squirrel_registry', '')")


def cache_of(api: Api) -> PVCache:
    cache: PVCache = api.client.app.state.ctx.cache
    return cache


def connected(cache: PVCache, names: list[str]) -> Callable[[], bool]:
    return lambda: all((s := cache.get(n)) is not None and s.connected and s.has_value for n in names)


async def test_values_flow_ioc_to_cache_and_health(api: Api, database_url: str, sim_ioc: SimHandle) -> None:
    x = sim_ioc.special
    pairs = [(x["double"], x["alarm"]), (x["nan"], x["enum"]), (x["string"], x["wave"]), (x["chars"], x["long"])]
    pairs += [(p.setpoint, p.readback) for p in sim_ioc.pvs[:10]]
    await register(database_url, pairs)
    names = [a for pair in pairs for a in pair if a]
    cache = cache_of(api)
    await wait_for(connected(cache, names), 10, "all registered PVs connected")
    # The session IOC is shared with other tests: write every value asserted below, then wait for all.
    wave = [float(k) for k in range(1, 11)]
    written = [
        (x["alarm"], 95.0),
        (x["double"], 1.0),
        (x["enum"], 1),
        (x["string"], "text 1"),
        (x["wave"], wave),
        (x["chars"], "note 1"),
    ]
    await write_many(written, timeout=5)

    def arrived() -> bool:
        s = cache.get(x["alarm"])
        e = cache.get(x["enum"])
        others = [cache.get(x[k]) for k in ("string", "wave", "chars")]
        return (
            s is not None
            and s.value == 95.0
            and s.severity == 2
            and e is not None
            and e.enum_index == 1
            and [o.value if o else None for o in others] == ["text 1", wave, "note 1"]
        )

    await wait_for(arrived, 5, "the HIHI alarm and the written values in the cache")
    a = cache.get(x["alarm"])
    assert a is not None and (a.status, a.units, a.precision, a.type) == ("HIHI", "mm", 3, "double")
    assert a.timestamp_ns is not None and a.server == f"localhost:{sim_ioc.iocs[0].port}"
    assert math.isnan(cache.get(x["nan"]).value)  # type: ignore[union-attr]
    e = cache.get(x["enum"])
    assert e is not None and (e.value, e.enum_index, e.enum_strings) == ("On", 1, ["Off", "On", "Fault", "Standby"])
    assert cache.get(x["string"]).value == "text 1"  # type: ignore[union-attr]
    assert cache.get(x["wave"]).value == wave  # type: ignore[union-attr]
    assert (cache.get(x["chars"]).type, cache.get(x["chars"]).value) == ("char[]", "note 1")  # type: ignore[union-attr]

    r = await api.get("/v1/health/summary", scope="read")
    body = r.json()
    assert r.status_code == 200 and body["total_pvs"] == len(names) and body["connected"] == len(names)
    assert body["disconnected"] == 0 and body["stale"] == 0 and body["monitor_alive"] is True
    hb = await api.get("/v1/health/heartbeat", scope=None)
    assert hb.status_code == 200 and hb.json()["monitor_alive"] is True
    mon = (await api.get("/v1/health/monitor", scope="read")).json()
    assert mon["subscribed"] == len(names) and mon["callback_errors"] == 0
    assert (await api.get("/v1/health/disconnected", scope="read")).json() == {"disconnected_pvs": [], "count": 0}
    assert (await api.get("/v1/health/stale", scope="read")).json()["count"] == 0
    ready = await api.get("/readyz", scope=None)
    assert ready.json()["checks"]["monitor"] == "ok"


async def test_registry_changes_follow_without_restart(api: Api, database_url: str, sim_ioc: SimHandle) -> None:
    cache = cache_of(api)
    first, second = sim_ioc.pvs[20], sim_ioc.pvs[21]
    await register(database_url, [(first.setpoint, first.readback)])
    await wait_for(connected(cache, [first.setpoint, first.readback]), 10, "first PV subscribed")
    t0 = time.monotonic()
    await register(database_url, [(second.setpoint, None)])
    await wait_for(lambda: second.setpoint in cache, 1.5, "a new PV subscribed within about a second")
    await unregister(database_url, first.setpoint)
    await wait_for(lambda: first.setpoint not in cache and first.readback not in cache, 1.5, "a deleted PV dropped")
    assert time.monotonic() - t0 < 10
    mon = (await api.get("/v1/health/monitor", scope="read")).json()
    assert mon["subscribed"] == 1 and mon["resyncs"] >= 2


async def test_ioc_stop_restart_and_circuits(api: Api, database_url: str, restartable_ioc: SimHandle) -> None:
    cache = cache_of(api)
    names = [restartable_ioc.special["double"], restartable_ioc.special["enum"]]
    await register(database_url, [(names[0], names[1])])
    await wait_for(connected(cache, names), 10, "restartable IOC PVs connected")
    server = cache.get(names[0]).server  # type: ignore[union-attr]
    assert server is not None

    restartable_ioc.iocs[0].stop()
    took = await wait_for(lambda: not any(cache.get(n).connected for n in names), 5, "disconnect seen")  # type: ignore[union-attr]
    assert took < 1.0, f"disconnect took {took:.2f} s"
    gone = (await api.get("/v1/health/disconnected", scope="read")).json()
    assert gone == {"disconnected_pvs": sorted(names), "count": 2}
    summary = (await api.get("/v1/health/summary", scope="read")).json()
    assert summary["disconnected"] == 2 and summary["open_circuits"] == 1
    circuits = {c["name"]: c for c in (await api.get("/v1/health/circuits", scope="read")).json()["circuits"]}
    assert circuits[server]["state"] == "open" and circuits[server]["pv_count"] == 2

    # operator control: admin only, unknown names are 404
    assert (await api.post(f"/v1/health/circuits/{server}/close", scope="write")).status_code == 403
    closed = await api.post(f"/v1/health/circuits/{server}/close", scope="admin")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    forced = await api.post(f"/v1/health/circuits/{server}/open", scope="admin")
    assert forced.status_code == 200 and forced.json()["state"] == "open" and forced.json()["forced"] is True
    missing = await api.post("/v1/health/circuits/nohost:1/open", scope="admin")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    assert (await api.post(f"/v1/health/circuits/{server}/close", scope="admin")).json()["state"] == "closed"

    restartable_ioc.iocs[0].start()
    await wait_for(connected(cache, names), 15, "PVs back after the IOC restart")
    circuits = {c["name"]: c for c in (await api.get("/v1/health/circuits", scope="read")).json()["circuits"]}
    assert circuits[server]["state"] == "closed"
    assert (await api.get("/v1/health/disconnected", scope="read")).json()["count"] == 0


async def test_removed_pv_channel_closes_and_re_adding_works(api: Api, database_url: str, sim_ioc: SimHandle) -> None:
    cache = cache_of(api)
    pv = sim_ioc.pvs[30]
    names = [pv.setpoint, pv.readback]
    await register(database_url, [(pv.setpoint, pv.readback)])
    await wait_for(connected(cache, names), 10, "PV subscribed")
    # The app runs in the test client's own loop: its pool is the one holding the monitor's channels.
    (pool,) = [p for p in channels.pools() if all(p.has(n) for n in names)]
    pool.idle_grace = 0.5

    await unregister(database_url, pv.setpoint)
    await wait_for(lambda: not any(pool.has(n) for n in names), 0.5 + 5, "the removed PV's channels closed")
    assert pv.setpoint not in cache

    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("UPDATE pv SET deleted_at = NULL WHERE setpoint_address = %s", (pv.setpoint,))
        await conn.execute("SELECT pg_notify('squirrel_registry', '')")
    await wait_for(connected(cache, names), 10, "the re-added PV subscribed again on a new channel")
    await write_many([(pv.setpoint, 12.5)], timeout=5)
    await wait_for(lambda: (s := cache.get(pv.setpoint)) is not None and s.value == 12.5, 5, "update after re-adding")
    await asyncio.sleep(0.5 + 0.3)
    assert all(pool.has(n) for n in names)  # leased by the monitor: no grace period applies
