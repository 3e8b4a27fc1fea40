"""The broadcaster's fan-out logic: selection, coalescing, bounding, drop counting (no sockets)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from squirrel.live.broadcaster import Broadcaster
from squirrel.live.entries import EntryEncoder
from squirrel.live.sse import live_stream
from squirrel.pv import PVCache
from tests.support.server import feed


def _decode(body: bytes) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = json.loads(body)
    return out


async def test_selection_by_addresses_and_all() -> None:
    cache = PVCache()
    b = Broadcaster(cache)
    some = b.subscribe({"A", "B"})
    every = b.subscribe(None)
    nothing = b.subscribe(set())
    feed(cache, "A", 1.0)
    feed(cache, "C", 2.0)
    assert b.tick() == 2
    assert some.pending == {"A"} and every.pending == {"A", "C"} and not nothing.has_pending
    assert some.event.is_set() and not nothing.event.is_set()
    assert set(some.take(cache.addresses)) == {"A"} and not some.has_pending


async def test_coalescing_keeps_latest_value_and_counts_superseded_updates() -> None:
    cache = PVCache()
    b = Broadcaster(cache)
    sub = b.subscribe({"A"})
    for i in range(5):  # five ticks, the subscriber never sends
        feed(cache, "A", float(i))
        b.tick()
    assert sub.pending == {"A"} and sub.coalesced == 4
    body, count = b.encoder.encode_map(sub.take(cache.addresses))
    assert count == 1 and _decode(body)["A"]["value"] == 4.0  # read at send time: the latest value


async def test_pending_set_is_bounded_and_collapses_into_a_resync_of_the_selection() -> None:
    cache = PVCache()
    b = Broadcaster(cache, queue_size=10)
    sub = b.subscribe(None)
    small = b.subscribe({"P0", "P1"})
    for i in range(25):
        feed(cache, f"P{i}", float(i))
    b.tick()
    assert sub.resync and not sub.pending and sub.overflows == 1
    assert small.pending == {"P0", "P1"} and not small.resync  # one slow client never affects another
    feed(cache, "P3", 99.0)
    b.tick()  # further changes are covered by the resync
    assert not sub.pending and sub.overflows == 1
    sent = list(sub.take(cache.addresses))
    assert len(sent) == 25 and not sub.resync
    body, count = b.encoder.encode_map(sent)
    assert count == 25 and _decode(body)["P3"]["value"] == 99.0


async def test_memo_is_invalidated_by_the_tick() -> None:
    cache = PVCache()
    b = Broadcaster(cache)
    feed(cache, "A", 1.0)
    b.tick()
    assert _decode(b.encoder.encode_map(["A"])[0])["A"]["value"] == 1.0
    feed(cache, "A", 2.0)
    assert _decode((await b.encoder.encode_fresh(["A"]))[0])["A"]["value"] == 2.0  # REST reads bypass the memo
    b.tick()
    assert _decode(b.encoder.encode_map(["A"])[0])["A"]["value"] == 2.0
    cache.discard("A")
    b.encoder.prune()
    assert _decode(b.encoder.encode_map(["A"])[0])["A"] == {"connected": False, "error": "not monitored"}


async def test_unsubscribe_keeps_totals_and_closes() -> None:
    cache = PVCache()
    b = Broadcaster(cache)
    sub = b.subscribe({"A"}, kind="sse")
    for i in range(3):
        feed(cache, "A", float(i))
        b.tick()
    b.unsubscribe(sub)
    assert sub.closed and sub.event.is_set()
    assert b.stats("sse") == {"clients": 0, "coalesced": 2, "overflows": 0}
    feed(cache, "A", 9.0)
    b.tick()
    assert sub.coalesced == 2  # a closed subscriber is no longer offered anything
    assert b.stats("sse")["coalesced"] == 2


async def test_run_loop_ticks_and_stop_closes_subscribers() -> None:
    cache = PVCache()
    b = Broadcaster(cache, interval=0.01)
    sub = b.subscribe({"A"})
    b.start()
    feed(cache, "A", 1.0)
    async with asyncio.timeout(5):
        await sub.event.wait()
    await b.stop()
    assert sub.closed and not b.running


async def test_stream_takes_changes_when_its_window_opens_without_waiting_for_a_tick() -> None:
    cache = PVCache()
    b = Broadcaster(cache)  # not started: no timed tick ever runs
    feed(cache, "A", 1.0)
    sub = b.subscribe({"A"})
    stream = live_stream(b, sub, first_id=1, heartbeat=60.0, min_interval=0.05, monitor_alive=lambda: True)
    assert b"event: initial" in await anext(stream)
    feed(cache, "A", 2.0)
    async with asyncio.timeout(5):
        diff = await anext(stream)
    assert b"event: diff" in diff and b'"value":2.0' in diff
    await stream.aclose()
    assert sub.closed


async def test_first_subscriber_cuts_the_idle_wait_short() -> None:
    cache = PVCache()
    b = Broadcaster(cache, interval=0.01, idle_interval=600)
    b.start()
    await asyncio.sleep(0.05)  # the loop is now in its idle wait
    sub = b.subscribe({"A"})
    feed(cache, "A", 1.0)
    async with asyncio.timeout(5):
        await sub.event.wait()
    await b.stop()


def test_encoder_escapes_addresses() -> None:
    cache = PVCache()
    feed(cache, 'Q:"odd"', 1.0)
    body, count = EntryEncoder(cache).encode_map(['Q:"odd"'])
    assert count == 1 and _decode(body)['Q:"odd"']["value"] == 1.0


def test_update_rate_is_measured_over_one_second_windows() -> None:
    clock = [100.0]
    cache = PVCache()
    b = Broadcaster(cache, clock=lambda: clock[0])
    b.tick()  # opens the window
    cache.total_updates = 500
    clock[0] = 100.5
    b.tick()
    assert b.update_rate == 0.0  # the window is not over yet
    clock[0] = 102.0
    b.tick()
    assert b.update_rate == 250.0


async def test_an_update_that_changes_nothing_a_client_sees_is_not_offered() -> None:
    cache = PVCache()
    b = Broadcaster(cache)
    sub = b.subscribe({"A", "N"})
    feed(cache, "A", 1.0, timestamp=100.0)
    feed(cache, "N", float("nan"), timestamp=100.0)
    assert b.tick() == 2
    sub.take(cache.addresses)
    before = _decode(b.encoder.encode_map(["A"])[0])["A"]["updated_at"]
    feed(cache, "A", 1.0, timestamp=100.0)  # the same value, alarm and EPICS time again (NaN too)
    feed(cache, "N", float("nan"), timestamp=100.0)
    cache.get("A").updated_at = before + 1.0  # type: ignore[union-attr]
    assert b.tick() == 0 and not sub.has_pending
    assert _decode(b.encoder.encode_map(["A"])[0])["A"]["updated_at"] == before + 1.0  # the fragment is fresh
    steps: list[dict[str, Any]] = [  # each differs from the one before in one thing only
        {"timestamp": 101.0},
        {"timestamp": 101.0, "units": "mA"},
        {"timestamp": 101.0, "status": "HIHI", "severity": 2},
        {"timestamp": 101.0, "status": "HIHI", "severity": 2, "connected": False},
    ]
    for fields in steps:
        feed(cache, "A", 1.0, **fields)
        assert b.tick() == 1 and sub.pending == {"A"}, fields
        sub.take(cache.addresses)
        feed(cache, "A", 1.0, **fields)
        assert b.tick() == 0 and not sub.has_pending, fields
