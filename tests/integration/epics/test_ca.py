"""Bulk reads and writes against real caproto IOCs: every type round-trips, dead IOCs cost one timeout."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from squirrel.epics import _channels as channels
from squirrel.epics.breaker import BreakerSet
from squirrel.epics.ca import read_many, write_many
from squirrel.tools.sim import SLOW_PUT_DELAY, SimHandle

pytestmark = pytest.mark.usefixtures("ca_purge")


async def test_read_many_all_types(sim_ioc: SimHandle) -> None:
    x = sim_ioc.special
    states = await read_many(list(x.values()), timeout=5.0)
    assert all(s.connected and s.error is None for s in states.values()), states
    d = states[x["double"]]
    assert (d.type, d.value, d.units, d.precision, d.status, d.severity) == ("double", 1.0, "mm", 3, "NO_ALARM", 0)
    assert d.timestamp_ns is not None and d.timestamp is not None
    assert abs(d.timestamp_ns / 1e9 - d.timestamp) < 1e-3 and d.server == f"localhost:{sim_ioc.iocs[0].port}"
    assert math.isnan(states[x["nan"]].value)
    assert (states[x["long"]].type, states[x["long"]].value) == ("long", 1)
    assert (states[x["short"]].type, states[x["float"]].type) == ("short", "float")
    e = states[x["enum"]]
    assert (e.type, e.value, e.enum_index, e.enum_strings) == ("enum", "On", 1, ["Off", "On", "Fault", "Standby"])
    assert (states[x["string"]].type, states[x["string"]].value) == ("string", "text 1")
    w = states[x["wave"]]
    assert (w.type, w.value) == ("double[]", [float(k) for k in range(1, 11)])
    assert (states[x["chars"]].type, states[x["chars"]].value) == ("char[]", "note 1")


async def test_repeated_reads_reuse_metadata_with_the_same_result(sim_ioc: SimHandle) -> None:
    """CTRL metadata is read once per connection; later reads (TIME only) still carry all of it."""
    x = sim_ioc.special
    addresses = list(x.values())
    await write_many([(x["double"], 1.0), (x["enum"], 1)], timeout=5.0)  # the session IOC is shared
    first = await read_many(addresses, timeout=5.0)
    assert all(channels.pool().channels[a].fresh_meta(time.time(), 60.0) for a in addresses if a != x["string"])
    second = await read_many(addresses, timeout=5.0)
    meta = ("type", "units", "precision", "enum_strings", "upper_ctrl_limit", "lower_ctrl_limit", "upper_disp_limit")
    for a in addresses:
        assert second[a].connected and second[a].error is None, second[a]
        assert [getattr(second[a], f) for f in meta] == [getattr(first[a], f) for f in meta], a
    assert second[x["enum"]].value == "On" and second[x["double"]].units == "mm"
    plain = await read_many([x["double"]], timeout=5.0, ctrl=False)
    assert plain[x["double"]].units is None and plain[x["double"]].value == 1.0


async def test_write_many_round_trip(sim_ioc: SimHandle) -> None:
    x = sim_ioc.special
    items = [
        (x["double"], 2.5),
        (x["nan"], "Infinity"),
        (x["long"], 42),
        (x["enum"], "Fault"),
        (x["string"], "hello world"),
        (x["wave"], [1.5, math.nan, -math.inf]),
        (x["chars"], "a longer note"),
        (x["short"], 7),
    ]
    results = await write_many(items, timeout=5.0)
    assert {a: r.outcome for a, r in results.items()} == {a: "written" for a, _ in items}, results
    states = await read_many([a for a, _ in items], timeout=5.0)
    assert states[x["double"]].value == 2.5
    assert states[x["nan"]].value == math.inf
    assert states[x["long"]].value == 42
    assert (states[x["enum"]].value, states[x["enum"]].enum_index) == ("Fault", 2)
    assert states[x["string"]].value == "hello world"
    wave = states[x["wave"]].value
    assert wave[0] == 1.5 and math.isnan(wave[1]) and wave[2] == -math.inf
    assert states[x["chars"]].value == "a longer note"
    # enum by index, NaN as such
    results = await write_many([(x["enum"], 1), (x["nan"], math.nan)], timeout=5.0)
    assert all(r.outcome == "written" for r in results.values())
    states = await read_many([x["enum"], x["nan"]], timeout=5.0)
    assert states[x["enum"]].value == "On" and math.isnan(states[x["nan"]].value)


async def test_write_failures_are_reported(sim_ioc: SimHandle) -> None:
    x = sim_ioc.special
    results = await write_many(
        [(x["ro"], 1.0), (x["double"], "not a number"), (x["string"], "x" * 60), ("NOPE:missing", 1.0)], timeout=1.0
    )
    assert results[x["ro"]].outcome == "failed" and "access" in (results[x["ro"]].error or "").lower()
    assert results[x["double"]].outcome == "failed" and "number" in (results[x["double"]].error or "")
    assert results[x["string"]].outcome == "failed"
    assert results["NOPE:missing"].outcome == "disconnected"


async def test_slow_put_completion_and_timeout(sim_ioc: SimHandle) -> None:
    slow = sim_ioc.special["slow"]
    t0 = time.monotonic()
    ok = await write_many([(slow, 4.0)], timeout=5.0)
    assert ok[slow].outcome == "written" and time.monotonic() - t0 >= SLOW_PUT_DELAY * 0.9
    late = await write_many([(slow, 5.0)], timeout=SLOW_PUT_DELAY / 5)
    assert late[slow].outcome == "timeout"
    no_wait = await write_many([(slow, 6.0)], timeout=5.0, wait=False)
    assert no_wait[slow].outcome == "written"


async def test_dead_pvs_cost_one_timeout_for_the_batch(sim_ioc: SimHandle) -> None:
    live = sim_ioc.addresses()[:20]
    dead = [f"NOPE:dead{i}" for i in range(200)]
    t0 = time.monotonic()
    states = await read_many(live + dead, timeout=1.0)
    elapsed = time.monotonic() - t0
    assert elapsed < 4.0  # one 1 s timeout for 200 dead PVs, not 200 of them
    assert all(states[a].connected for a in live)
    assert all(states[a].error == "disconnected" and not states[a].connected for a in dead)


async def test_breaker_skips_stopped_ioc_and_recloses(restartable_ioc: SimHandle) -> None:
    breakers = BreakerSet(failures=2, cooldown=0.5)
    names = list(restartable_ioc.special.values())
    first = await read_many(names, timeout=5.0, breakers=breakers)
    server = first[names[0]].server
    assert server and all(s.connected for s in first.values())
    restartable_ioc.iocs[0].stop()
    for _ in range(2):
        states = await read_many(names, timeout=0.5, breakers=breakers)
        assert not any(s.connected for s in states.values())
    assert {b["name"]: b["state"] for b in breakers.states()}[server] == "open", (breakers.states(), states)
    t0 = time.monotonic()
    skipped = await read_many(names, timeout=5.0, breakers=breakers)
    assert time.monotonic() - t0 < 0.5
    assert all(s.error == "circuit open" for s in skipped.values())
    writes = await write_many([(names[0], 1.0)], timeout=5.0, breakers=breakers)
    assert writes[names[0]].error == "circuit open"
    restartable_ioc.iocs[0].start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        states = await read_many(names, timeout=1.0, breakers=breakers)
        if all(s.connected for s in states.values()):
            break
    assert all(s.connected for s in states.values())
    assert {b["name"]: b["state"] for b in breakers.states()}[server] == "closed"


async def _closed(pool: channels.ChannelPool, names: list[str], within: float) -> None:
    deadline = time.monotonic() + within
    while any(pool.has(n) for n in names):
        assert time.monotonic() < deadline, [n for n in names if pool.has(n)]
        await asyncio.sleep(0.02)


async def test_unmonitored_channels_close_after_the_grace_period(sim_ioc: SimHandle) -> None:
    pool = channels.pool()
    pool.idle_grace = 0.5
    names = [p.setpoint for p in sim_ioc.pvs[40:45]]
    dead = [f"NOPE:gone{i}" for i in range(5)]
    before = pool.open_count()
    states = await read_many(names + dead, timeout=1.0)
    assert all(states[n].connected for n in names) and not any(states[n].connected for n in dead)
    assert all(pool.has(n) for n in names + dead)  # kept through the grace period: a read right after reuses them
    again = await read_many(names, timeout=5.0)
    assert all(s.connected for s in again.values())
    await _closed(pool, names + dead, within=0.5 + 5.0)
    assert pool.open_count() <= before
    reopened = await read_many(names, timeout=5.0)  # a closed channel is simply created again
    assert all(s.connected and s.error is None for s in reopened.values())
    await _closed(pool, names, within=0.5 + 5.0)


async def test_clear_during_an_outstanding_put_ends_by_the_batch_timeout(sim_ioc: SimHandle) -> None:
    """libca cancels a cleared channel's requests without a callback: nothing waits for it, nothing breaks."""
    pool = channels.pool()
    pool.idle_grace = 0.0
    slow = sim_ioc.special["slow"]
    late = await write_many([(slow, 7.0)], timeout=SLOW_PUT_DELAY / 5)
    assert late[slow].outcome == "timeout"
    await _closed(pool, [slow], within=5.0)  # cleared while the IOC still holds the put
    await asyncio.sleep(SLOW_PUT_DELAY * 1.5)  # when its completion would have come back
    t0 = time.monotonic()
    ok = await write_many([(slow, 8.0)], timeout=5.0)
    assert ok[slow].outcome == "written" and time.monotonic() - t0 < 5.0
    read = await read_many([slow], timeout=5.0)
    assert read[slow].connected and read[slow].value == 8.0
