"""run_batch against a real IOC: connected channels are asked at once (reads in rounds), connecting ones
when they come up, never-connected ones are returned (their listeners removed); the libca handler copies
each reply."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from epicscorelibs.ca import cadef

from squirrel.epics._batch import ROUND_STALL, Batch, on_get, request, run_batch
from squirrel.epics._channels import Chan, pool
from squirrel.epics._decoders import payload_size
from squirrel.tools.sim import SimHandle
from tests.integration.services.snapshots.test_frozen_ioc import Freezer, freezer

__all__ = ["freezer"]  # the fixture, imported for this module's tests


@pytest.fixture
async def leased(sim_ioc: SimHandle) -> AsyncIterator[dict[str, Chan]]:
    names = [sim_ioc.special["double"], sim_ioc.special["wave"], "NOPE:batch0", "NOPE:batch1"]
    channels = await pool().acquire(names)
    yield channels
    pool().release(channels)


async def test_replies_come_back_per_channel_and_dead_channels_are_named(
    sim_ioc: SimHandle, leased: dict[str, Chan]
) -> None:
    batch = Batch(asyncio.get_running_loop())
    issued: list[str] = []

    def issue(address: str, chan: Chan) -> None:
        issued.append(address)
        assert chan.connected and chan.decoder is not None
        assert request(batch, cadef.ca_array_get_callback, chan.decoder.time_code, 0, chan.id, on_get) is None

    never = await run_batch(batch, leased, issue, timeout=1.0)
    live = [sim_ioc.special["double"], sim_ioc.special["wave"]]
    assert never == {"NOPE:batch0", "NOPE:batch1"}
    assert sorted(issued) == sorted(live)  # asked once each, whether connected before or during the batch
    assert batch.finished and batch.remaining == 0
    assert all(not leased[a].listeners for a in never)  # the batch's connection listeners are gone
    by_chid = {chid: (dbr_type, count, status, data) for chid, dbr_type, count, status, data in batch.got}
    for address in live:
        chan = leased[address]
        dbr_type, count, status, data = by_chid[chan.id]
        assert chan.decoder is not None
        assert status == cadef.ECA_NORMAL and dbr_type == chan.decoder.time_code
        assert data is not None and len(data) == payload_size(dbr_type, count)
    assert by_chid[leased[sim_ioc.special["double"]].id][1] == 1
    # count 0 asks for the array's current length (other tests of the shared IOC write it): 1..10 elements
    assert 1 <= by_chid[leased[sim_ioc.special["wave"]].id][1] <= 10


async def test_an_empty_batch_returns_at_once(sim_ioc: SimHandle) -> None:
    batch = Batch(asyncio.get_running_loop())
    assert await run_batch(batch, {}, lambda a, c: None, timeout=30.0) == set()
    assert batch.finished and batch.event.is_set()


async def test_a_batch_whose_issue_asks_nothing_ends_without_waiting(
    sim_ioc: SimHandle, leased: dict[str, Chan]
) -> None:
    live = {a: c for a, c in leased.items() if not a.startswith("NOPE:")}
    await run_batch(Batch(asyncio.get_running_loop()), live, lambda a, c: None, timeout=5.0)  # connects them
    batch = Batch(asyncio.get_running_loop())
    assert await run_batch(batch, live, lambda a, c: None, timeout=30.0) == set()
    assert batch.event.is_set()  # ended by completion (nothing was outstanding), not by its timeout


async def _connected(names: list[str]) -> dict[str, Chan]:
    channels = await pool().acquire(names)
    await run_batch(Batch(asyncio.get_running_loop()), channels, lambda a, c: None, timeout=5.0)  # connects them
    return channels


def _asker(batch: Batch, outstanding: list[int]) -> Callable[[str, Chan], None]:
    def issue(address: str, chan: Chan) -> None:
        outstanding.append(batch.remaining)  # requests still unanswered when this one goes out
        assert chan.decoder is not None
        assert request(batch, cadef.ca_array_get_callback, chan.decoder.time_code, 0, chan.id, on_get) is None

    return issue


async def test_reads_in_rounds_get_every_answer_and_wait_for_each_round(sim_ioc: SimHandle) -> None:
    names = [p.setpoint for p in sim_ioc.pvs] + [p.readback for p in sim_ioc.pvs]
    channels = await _connected(names)
    try:
        batch = Batch(asyncio.get_running_loop())
        outstanding: list[int] = []
        assert await run_batch(batch, channels, _asker(batch, outstanding), timeout=5.0, round_size=7) == set()
        assert batch.event.is_set() and batch.remaining == 0
        assert len({chid for chid, *_ in batch.got}) == len(names)  # none lost at a round's end
        assert len(outstanding) == len(names) and max(outstanding) < 7  # each round answered before the next
    finally:
        pool().release(channels)


async def test_an_ioc_that_does_not_answer_does_not_hold_up_the_other_rounds(
    sim_ioc: SimHandle, restartable_ioc: SimHandle, freezer: Freezer
) -> None:
    hung = [p.setpoint for p in restartable_ioc.pvs[:5]]
    live = [p.setpoint for p in sim_ioc.pvs[:10]]
    channels = await _connected(hung + live)  # the hung IOC's channels come first
    try:
        freezer.freeze()
        batch = Batch(asyncio.get_running_loop())
        started = time.monotonic()
        await run_batch(batch, channels, _asker(batch, []), timeout=3.0, round_size=1)
        elapsed = time.monotonic() - started
        answered = {chid for chid, *_ in batch.got}
        assert answered == {channels[a].id for a in live}  # every live channel, asked after 5 stalled rounds
        # One deadline for the whole read (3 s, from the last round), not one per round (15 x 3 s); each of
        # the 15 rounds itself waits ROUND_STALL after the answers stopped.
        assert elapsed < 3.0 + 15 * ROUND_STALL * 2 + 1.5
    finally:
        freezer.thaw()
        pool().release(channels)


async def test_the_deadline_counts_from_the_last_round_not_from_the_start(sim_ioc: SimHandle) -> None:
    """Issuing a large read takes our own time (seconds for 200K PVs on a slow host): each request still
    has the whole timeout for its answer, so the last rounds' answers are awaited, not given up."""
    names = [p.setpoint for p in sim_ioc.pvs][:12]
    channels = await _connected(names)
    try:
        batch = Batch(asyncio.get_running_loop())
        ask = _asker(batch, [])

        def slow_issue(address: str, chan: Chan) -> None:
            time.sleep(0.05)  # 12 requests: issuing alone outlasts the 0.2 s timeout three times over
            ask(address, chan)

        started = time.monotonic()
        assert await run_batch(batch, channels, slow_issue, timeout=0.2, round_size=4) == set()
        answered = {chid for chid, *_ in batch.got}  # before any answer could come after the wait
        assert batch.event.is_set()  # ended because every request was answered, not by the deadline
        assert answered == {channels[a].id for a in names}
        assert time.monotonic() - started >= 12 * 0.05
    finally:
        pool().release(channels)
