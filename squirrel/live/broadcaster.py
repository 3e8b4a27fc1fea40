"""One shared broadcaster per process: drains the cache's dirty set on a short tick and fans it out.

A stream whose rate-limit window opens calls `flush()` (a tick on demand) before it sends, so a change
applied to the cache just before the window opened goes out in that window instead of waiting for the
next tick; the timed tick only has to wake streams whose window is already open, hence its 10 ms.

Each subscriber keeps a *set* of pending addresses, not a queue of values: values are read from the
cache when the subscriber sends, so a slow client loses intermediate values but never the latest one,
and its memory is bounded by its selection. Past `queue_size` pending addresses the set collapses into
a "resync" flag (send the whole selection next time). The tick never awaits a client, so a stalled
client cannot slow the others or the monitor.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterable

import structlog

from squirrel.live.entries import EntryEncoder
from squirrel.pv import PVCache

log = structlog.get_logger(__name__)
TICK = 0.01  # seconds between drains of the dirty set while someone listens (a drain costs ~µs per change)
IDLE_TICK = 0.25  # without subscribers only the encoder's memo needs invalidating (subscribe() ticks first)
_PRUNE_EVERY = 10.0  # seconds between prunes of the encoder's memo


class Subscriber:
    """One client's selection and pending changes; `event` is set when there is something to send."""

    __slots__ = ("addresses", "closed", "coalesced", "event", "id", "kind", "limit", "overflows", "pending", "resync")

    def __init__(self, sid: int, addresses: set[str] | None, limit: int, kind: str) -> None:
        self.id = sid
        self.kind = kind
        self.addresses = addresses  # None selects every address in the cache
        self.limit = limit
        self.pending: set[str] = set()
        self.resync = False
        self.coalesced = 0  # updates superseded before they were sent (intermediate values lost)
        self.overflows = 0  # times the pending set outgrew `limit` and collapsed into a resync
        self.event = asyncio.Event()
        self.closed = False

    @property
    def has_pending(self) -> bool:
        return self.resync or bool(self.pending)

    def offer(self, changed: set[str]) -> None:
        """Merge changed addresses (already restricted to the selection) into the pending set."""
        if self.resync or not changed:
            return
        pending = self.pending
        before = len(pending)
        pending |= changed
        self.coalesced += len(changed) - (len(pending) - before)
        if len(pending) > self.limit:
            self.overflows += 1
            pending.clear()
            self.resync = True
        self.event.set()

    def take(self, everything: Callable[[], Iterable[str]]) -> Iterable[str]:
        """The addresses to send now (the whole selection after an overflow); resets the pending state."""
        if self.resync:
            self.resync = False
            self.pending = set()
            return list(self.addresses) if self.addresses is not None else list(everything())
        out, self.pending = self.pending, set()
        return out

    def select(self, addresses: set[str] | None) -> None:
        """Replace the selection (WebSocket subscribe/unsubscribe); pending leftovers outside it are dropped."""
        self.addresses = addresses
        if addresses is not None:
            self.pending &= addresses


class Broadcaster:
    def __init__(
        self,
        cache: PVCache,
        *,
        queue_size: int = 10_000,
        interval: float = TICK,
        idle_interval: float = IDLE_TICK,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cache = cache
        self._clock = clock
        self.encoder = EntryEncoder(cache)
        self.queue_size = queue_size
        self.interval = interval
        self.idle_interval = idle_interval
        self._pruned_at = clock()
        self._subs: dict[int, Subscriber] = {}
        self._ids = itertools.count(1)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0
        self.changes = 0  # addresses drained dirty, summed over ticks
        self.update_rate = 0.0  # cache updates per second over the last ~1 s window
        self._rate_mark: tuple[float, int] | None = None
        # Totals of subscribers that have left, so counters never go down.
        self._closed_coalesced: dict[str, int] = {}
        self._closed_overflows: dict[str, int] = {}

    # --- subscribers -------------------------------------------------------------------------
    def subscribe(self, addresses: Iterable[str] | None, kind: str = "sse", limit: int | None = None) -> Subscriber:
        selection = set(addresses) if addresses is not None else None
        # Fan out what is already dirty first: the new subscriber's initial read is then current and
        # its first diff holds only changes made after it subscribed.
        self.tick()
        sub = Subscriber(next(self._ids), selection, limit or self.queue_size, kind)
        self._subs[sub.id] = sub
        if len(self._subs) == 1:
            self._wake.set()  # the run loop may be in its idle wait: switch to the short tick now
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        if self._subs.pop(sub.id, None) is None:
            return
        sub.closed = True
        sub.event.set()
        self._closed_coalesced[sub.kind] = self._closed_coalesced.get(sub.kind, 0) + sub.coalesced
        self._closed_overflows[sub.kind] = self._closed_overflows.get(sub.kind, 0) + sub.overflows

    def subscribers(self, kind: str | None = None) -> list[Subscriber]:
        return [s for s in self._subs.values() if kind is None or s.kind == kind]

    def stats(self, kind: str) -> dict[str, int]:
        subs = self.subscribers(kind)
        return {
            "clients": len(subs),
            "coalesced": self._closed_coalesced.get(kind, 0) + sum(s.coalesced for s in subs),
            "overflows": self._closed_overflows.get(kind, 0) + sum(s.overflows for s in subs),
        }

    # --- the tick ----------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def flush(self) -> None:
        """A tick on demand, for a stream about to send: what the monitor applied since the last tick goes now."""
        self.tick()

    def tick(self) -> int:
        """Drain the dirty set once and offer its real changes to every subscriber; returns their number."""
        dirty = self.cache.drain_dirty()
        self.ticks += 1
        self._measure_rate()
        if not dirty:
            return 0
        self.changes += len(dirty)
        dirty = self.encoder.changed(dirty)  # updates that change nothing a client sees go nowhere
        if not dirty:
            return 0
        for sub in list(self._subs.values()):
            selection = sub.addresses
            sub.offer(dirty if selection is None else dirty & selection)
        return len(dirty)

    def _measure_rate(self) -> None:
        now, total = self._clock(), self.cache.total_updates
        if now - self._pruned_at >= _PRUNE_EVERY:
            self._pruned_at = now
            self.encoder.prune()
        mark = self._rate_mark
        if mark is None:
            self._rate_mark = (now, total)
        elif now - mark[0] >= 1.0:
            self.update_rate = (total - mark[1]) / (now - mark[0])
            self._rate_mark = (now, total)

    async def run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self.interval if self._subs else self.idle_interval):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                self.tick()
            except Exception:  # the fan-out must outlive any single bad tick
                log.exception("broadcaster tick failed")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="squirrel-broadcaster")

    async def stop(self) -> None:
        """Stop ticking and close every subscriber, so open streams end instead of hanging shutdown."""
        for sub in list(self._subs.values()):
            self.unsubscribe(sub)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
