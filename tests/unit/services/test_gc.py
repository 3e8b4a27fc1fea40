"""services._gc: the collector's pauses are counted, and a long-lived heap is frozen out of them (and thawed)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from squirrel.services import _gc


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    yield
    gc.unfreeze()  # freezing is process-wide: leave the test process as it was


def test_the_clock_counts_each_generations_pauses() -> None:
    clock = _gc.GcClock()
    gc.callbacks.append(clock)
    try:
        before = list(clock.collections)
        gc.collect(0)
        gc.collect(2)
    finally:
        gc.callbacks.remove(clock)
    assert clock.collections[0] >= before[0] + 1 and clock.collections[2] >= before[2] + 1
    assert clock.seconds[2] > 0.0
    assert clock.last_full is not None and clock.last_full[0] > 0.0


def test_install_registers_one_clock() -> None:
    clock = _gc.install()
    assert _gc.install() is clock and gc.callbacks.count(clock) == 1


def test_a_slow_full_collection_that_found_little_is_due() -> None:
    clock = _gc.GcClock()
    assert not _gc.settle_due(clock)  # no full collection yet
    clock.last_full = (0.5, 10)
    assert _gc.settle_due(clock)
    clock.last_full = (0.5, 50_000)  # it found garbage: the heap is not (only) long-lived
    assert not _gc.settle_due(clock)
    clock.last_full = (0.001, 0)  # fast: nothing to gain
    assert not _gc.settle_due(clock)


async def test_settle_freezes_when_due_and_thaws_later() -> None:
    clock = _gc.GcClock()
    clock.last_full = (1.0, 0)
    task = asyncio.create_task(_gc.settle(clock, check_every=0.01, thaw_every=0.2))
    try:
        for _ in range(100):
            await asyncio.sleep(0.01)
            if gc.get_freeze_count():
                break
        assert gc.get_freeze_count() > 0 and clock.last_full is None  # frozen, and the trigger consumed
        for _ in range(100):
            await asyncio.sleep(0.01)
            if not gc.get_freeze_count():
                break
        assert gc.get_freeze_count() == 0  # thawed: cycles among them can be collected again
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
