"""One batch of libca requests: shared completion bookkeeping, the libca-thread handlers, the wait.

Every request's usr is the batch, passed as one borrowed pointer made once per batch: the batch stays
in `_OUT` while any request it issued is unanswered, so a late answer never finds it freed. (A counted
reference per request cost two more ctypes calls per PV, a tenth of the issuing time at 200K.) The
handlers only copy payload bytes and count down, so the event loop is woken once per batch, not once
per PV.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import threading
from collections.abc import Callable
from typing import Any

from epicscorelibs.ca import cadef

from squirrel.epics._channels import Chan, pin_thread_state
from squirrel.epics._decoders import payload_size
from squirrel.pv import wait_batch

Reply = tuple[int, int, int, int, bytes | None]  # one answer: chid, dbr type, count, status, payload


class Batch:
    """Completion bookkeeping for one bulk call; the usr of every request (one pointer, `usr`, for all).

    The loop is woken once, when the last request completed; with `on_answer` (a put window to refill)
    also as answers come, at most one wake-up queued at a time. `deferred` counts requests waiting for a
    place in a window: the batch is not complete while any wait."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_answer: Callable[[], None] | None = None) -> None:
        self.loop = loop
        self.event = asyncio.Event()
        self.lock = threading.Lock()
        self.remaining = 0
        self.issued_count = 0
        self.issuing = False  # run_batch is still issuing rounds: answered so far is not done
        self.connecting = 0
        self.deferred = 0
        self.finished = False
        self.got: list[Reply] = []
        self.on_answer = on_answer
        self._woken = False  # a wake-up is queued in the loop (answers after it are seen by it)
        self.usr = ctypes.py_object(self)  # every request's usr: a pointer to this batch, not a reference
        self.drained = asyncio.Event()  # set (in the loop) once every request issued so far was answered

    def issued(self) -> None:
        self.issued_count += 1  # the loop's count (rounds): only the loop issues
        with self.lock:
            self.remaining += 1
            if self.remaining == 1:
                _OUT[id(self)] = self

    def completed(self) -> None:
        with self.lock:
            self.remaining -= 1
            if self.remaining == 0:
                _OUT.pop(id(self), None)
            wake = (self.remaining <= 0 or self.on_answer is not None) and not self._woken
            if wake:
                self._woken = True
        if wake and not self.finished and not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        with self.lock:
            self._woken = False
        if self.remaining <= 0:
            self.drained.set()
        if self.on_answer is not None and not self.finished:
            self.on_answer()
        self.check()

    def check(self) -> None:
        if self.remaining <= 0 and self.connecting <= 0 and self.deferred <= 0 and not self.issuing:
            self.event.set()


# Reads: requests issued before the batch waits for their answers, and how long answers may stop coming
# before it issues the next round anyway. libca sends a circuit's queue early once it holds 256 KB (16K reads):
# answers then come back while the loop is still issuing, and every request's ctypes call then waits
# for the GIL behind libca's receive threads (a 200K-PV read issued at 6.5 µs per request, against
# 1.7 µs when nothing answers meanwhile). Rounds below that size let the answers come while the loop
# waits: a 200K-PV read alone took 2.2-2.6 s instead of 2.8-3.4 s, measured in the same minutes.
ROUND = 10_000
ROUND_STALL = 0.05

# Batches with a request out (id -> batch). One whose requests are never answered (its channel was
# cleared first: libca then calls nothing) stays, as a counted reference per request would have kept it.
_OUT: dict[int, Batch] = {}


def _handle_get(args: Any) -> None:  # pragma: no cover - runs in a libca thread
    pin_thread_state()
    batch: Batch = args.usr
    try:
        status, dbr_type, count = args.status, args.type, args.count
        data = None
        if status == cadef.ECA_NORMAL:
            size = payload_size(dbr_type, count)
            data = ctypes.string_at(args.raw_dbr, size) if size else None
        batch.got.append((args.chid or 0, dbr_type, count, status, data))
    except Exception:
        pass  # never raise into libca; the request reads as a timeout
    finally:
        batch.completed()


def _handle_put(args: Any) -> None:  # pragma: no cover - runs in a libca thread
    pin_thread_state()
    batch: Batch = args.usr
    try:
        batch.got.append((args.chid or 0, 0, 0, args.status, None))
    finally:
        batch.completed()


# ctypes keeps these callbacks alive for the process (module globals).
on_get: Any = cadef.event_handler(_handle_get)
on_put: Any = cadef.event_handler(_handle_put)


def request(batch: Batch, call: Callable[..., Any], *args: Any) -> str | None:
    """Issue one libca request whose usr is the batch; the error text when libca refused it."""
    batch.issued()
    try:
        call(*args, batch.usr)
    except Exception as exc:
        batch.completed()
        return ca_error(exc)
    return None


async def run_batch(
    batch: Batch,
    channels: dict[str, Chan],
    issue: Callable[[str, Chan], None],
    timeout: float,
    round_size: int | None = None,
) -> set[str]:
    """Issue now for connected channels, on connection for the others; wait once. Returns never-connected.

    With `round_size` (reads), the connected channels are asked in rounds of that many requests, each
    round's answers awaited (see ROUND) before the next is issued.

    `timeout` is one deadline for the batch, counted from when its last round went out: every request
    has at least that long for its answer. Issuing 200K reads takes seconds of our own CPU on a slow
    host; a deadline counted from the start spent them, and the IOCs' answers to the last rounds were
    then never awaited (a 200K-PV direct snapshot saved 9K sides without a value, every IOC healthy)."""
    loop = asyncio.get_running_loop()
    waiting: dict[str, Callable[[Chan, bool], None]] = {}

    def waiter(address: str) -> Callable[[Chan, bool], None]:
        def on_connection(chan: Chan, up: bool) -> None:  # the pool calls it in the loop, then flushes
            if up and address in waiting:
                del waiting[address]
                chan.listeners.remove(on_connection)
                batch.connecting -= 1
                if not batch.finished:
                    issue(address, chan)
                batch.check()

        return on_connection

    round_end = round_size or 0
    batch.issuing = True
    for address, chan in channels.items():
        if chan.connected:
            if round_size and batch.issued_count >= round_end:
                cadef.ca_flush_io()
                await _drain(batch, loop.time() + timeout)
                round_end = batch.issued_count + round_size
            issue(address, chan)
        else:
            batch.connecting += 1
            waiting[address] = waiter(address)
            chan.listeners.append(waiting[address])
    batch.issuing = False
    cadef.ca_flush_io()
    batch.check()
    try:
        await wait_batch(batch.event, timeout)
    finally:
        batch.finished = True
        for address, listener in waiting.items():
            with contextlib.suppress(ValueError):
                channels[address].listeners.remove(listener)
    return set(waiting)


async def _drain(batch: Batch, deadline: float) -> None:
    """Until every request issued so far was answered, the answers stop coming for ROUND_STALL s (an IOC
    that does not answer must not hold up the other IOCs' rounds), or the deadline."""
    loop = asyncio.get_running_loop()
    seen = -1
    while batch.remaining > 0 and len(batch.got) != seen:
        seen = len(batch.got)
        batch.drained.clear()
        left = deadline - loop.time()
        if left <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(batch.drained.wait(), min(ROUND_STALL, left))


def ca_error(exc: Exception) -> str:
    """A libca exception as our error text; a lost channel is plain "disconnected" (the breaker counts it)."""
    if isinstance(exc, cadef.Disconnected):
        return "disconnected"
    status = getattr(exc, "status", None)
    if status == cadef.ECA_DISCONN:
        return "disconnected"
    return cadef.ca_message(status) if isinstance(status, int) else str(exc)
