"""Hand-over from a library's threads to the event loop: each item queued once, one wake-up per batch.

libca and PVXS call back from their own threads, up to ~100K updates/s: one `call_soon_threadsafe`
per update would swamp the loop. A callback queues its item (once until the loop has taken it) and
only the first since the loop's last pass wakes it; the loop takes `chunk` items per pass and yields
between passes, so a start-up burst never stalls it. Shared by the CA and the PVA monitor.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class Queued(Protocol):
    queued: bool  # in the hand-over queue, not yet taken by the loop


T = TypeVar("T", bound=Queued)
U = TypeVar("U")


class Handover(Generic[T, U]):
    """`take(item)` runs under `lock` as the loop takes each item; `handle(taken)` then runs in the loop."""

    def __init__(self, take: Callable[[T], U], handle: Callable[[list[U]], None], chunk: int) -> None:
        self.lock = threading.Lock()  # callers may keep an item's pending data under it too
        self.loop: asyncio.AbstractEventLoop | None = None
        self._take = take
        self._handle = handle
        self._chunk = chunk
        self._queue: deque[T] = deque()
        self._scheduled = False

    def queue_locked(self, item: T) -> bool:
        """With `lock` held: queue `item` unless queued; True when the caller must `wake` the loop."""
        if not item.queued:
            item.queued = True
            self._queue.append(item)
        if self._scheduled:
            return False
        self._scheduled = True
        return True

    def wake(self) -> None:
        """Schedule the loop's pass (any thread; a closed or missing loop is skipped)."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._run)

    def push(self, item: T) -> None:
        with self.lock:
            wake = self.queue_locked(item)
        if wake:
            self.wake()

    def clear(self) -> None:
        with self.lock:
            for item in self._queue:
                item.queued = False
            self._queue.clear()

    def _run(self) -> None:
        queue, take, taken = self._queue, self._take, []
        with self.lock:
            for _ in range(min(len(queue), self._chunk)):
                item = queue.popleft()
                item.queued = False  # before taking: an update arriving meanwhile queues it again
                taken.append(take(item))
            more = self._scheduled = bool(queue)
        try:
            self._handle(taken)
        finally:
            if more and self.loop is not None:
                self.loop.call_soon(self._run)  # give the loop back between chunks
