"""The cyclic garbage collector: how long it pauses the process, and keeping the long-lived heap out of it.

A full collection walks every tracked object. With 200K PVs, the monitor's channels, watches and cache
entries are millions of objects that live as long as the registry does, and each full collection
paused the process for a good fraction of a second: a quarter of the 200K connect-all time and a third
of a 100K-setpoint restore went to re-walking them. `settle()` moves the survivors of such a collection
into the permanent generation (gc.freeze) once a collection shows that the heap is long-lived (slow and
finding almost nothing), so later collections walk only what is new. Cycles among frozen objects
would never be collected, so the frozen set is given back to the collector once an hour
(gc.unfreeze), and frozen again after the collection that follows.

The clock makes the pauses visible (`squirrel_gc_seconds_total`), so they can be told apart from I/O.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

import structlog

log = structlog.get_logger(__name__)
GENERATIONS = (0, 1, 2)
SLOW_FULL = 0.02  # s: a full collection this slow ...
FOUND_LITTLE = 1000  # ... that collected fewer objects than this: the heap is long-lived, freeze it
THAW_EVERY = 3600.0  # s: give frozen objects back to the collector (cycles among them get collected)
CHECK_EVERY = 0.5  # s: cheap (two attribute reads); often enough to freeze while a heap is being built


class GcClock:
    """Seconds spent in collections, and their count, per generation, since install()."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.collections = [0, 0, 0]
        self.last_full: tuple[float, int] | None = None  # (seconds, objects collected) of the latest
        self._started: float | None = None

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            generation = int(info.get("generation", 2))
            took = time.perf_counter() - self._started
            self.seconds[generation] += took
            self.collections[generation] += 1
            if generation == 2:
                self.last_full = (took, int(info.get("collected", 0)))
            self._started = None


_clock = GcClock()


def install() -> GcClock:
    """The process's clock, registered with the collector once (idempotent)."""
    if _clock not in gc.callbacks:
        gc.callbacks.append(_clock)
    return _clock


def settle_due(clock: GcClock) -> bool:
    """Whether the latest full collection says the heap is long-lived: slow, and it found little."""
    full = clock.last_full
    return full is not None and full[0] >= SLOW_FULL and full[1] < FOUND_LITTLE


async def settle(clock: GcClock, check_every: float = CHECK_EVERY, thaw_every: float = THAW_EVERY) -> None:
    """Freeze the long-lived heap when a full collection shows one; thaw it every `thaw_every` s. Runs
    until cancelled (the service's lifespan owns the task)."""
    thawed_at = time.monotonic()
    while True:
        await asyncio.sleep(check_every)
        if settle_due(clock):
            took, _ = clock.last_full or (0.0, 0)
            clock.last_full = None
            gc.freeze()  # (gc.get_freeze_count() would walk the whole frozen list: not logged)
            log.info("gc: long-lived heap frozen", last_full_s=round(took, 3))
        elif time.monotonic() - thawed_at >= thaw_every and gc.get_freeze_count():
            thawed_at = time.monotonic()
            gc.unfreeze()  # the next full collection sees everything once (and is slow: frozen again after)
