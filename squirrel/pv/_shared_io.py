"""What the CA (squirrel.epics) and the PVA (squirrel.pva) paths share beside the hand-over: a batch's one
deadline, the breaker verdict of a batch, and a monitor's task lifecycle and update rate.

epics and pva never import each other, so the logic they have in common lives here, below both.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Iterable
from typing import Protocol

# Errors that say a server did not answer (its circuit may be down); others (e.g. a put refused by the
# record) say nothing about the server.
_SERVER_FAILURES = ("timeout", "disconnected")


class BatchRecorder(Protocol):
    """The part of a breaker set a batch reports to (epics.breaker.BreakerSet, pva's Breakers port)."""

    def record_success(self, server: str | None) -> None: ...
    def record_failure(self, server: str | None, error: str = "timeout") -> None: ...


def record_batch(breakers: BatchRecorder, outcomes: Iterable[tuple[str | None, str | None]]) -> None:
    """One success or failure per server per batch, from (server, error or None) pairs: a server that
    answered once is up; one that only timed out or dropped is failed once. Unknown servers are skipped."""
    ok: set[str] = set()
    failed: dict[str, str] = {}
    for server, error in outcomes:
        if server is None:
            continue
        if error is None:
            ok.add(server)
        elif error in _SERVER_FAILURES:
            failed.setdefault(server, error)
    for server in ok:
        breakers.record_success(server)
    for server, error in failed.items():
        if server not in ok:
            breakers.record_failure(server, error)


async def wait_batch(done: asyncio.Event, timeout: float) -> None:
    """Until `done` is set or `timeout` s pass: one deadline for a whole batch (late answers are the
    caller's to drop)."""
    if not done.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout)


async def stop_tasks(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel a monitor's tasks, wait for every one to end (whatever it raised) and forget them."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    tasks.clear()


class UpdateRate:
    """Updates per second over the last ten seconds, from a running total sampled once a second."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, int]] = deque(maxlen=11)

    def sample(self, total: int) -> None:
        self._samples.append((time.monotonic(), total))

    @property
    def per_s(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        (t0, c0), (t1, c1) = self._samples[0], self._samples[-1]
        return (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0
