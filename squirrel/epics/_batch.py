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


class Batch:
    """Completion bookkeeping for one bulk call; the usr of every request (one reference per request).

    The loop is woken once, when the last request completed; with `on_answer` (a put window to refill)
    also as answers come, at most one wake-up queued at a time. `deferred` counts requests waiting for a
    place in a window: the batch is not complete while any wait."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_answer: Callable[[], None] | None = None) -> None:
        self.loop = loop
        self.event = asyncio.Event()
        self.lock = threading.Lock()
        self.remaining = 0
        self.connecting = 0
        self.deferred = 0
        self.finished = False
        self.got: list[tuple[int, int, int, int, bytes | None]] = []  # chid, dbr type, count, status, payload
        self.on_answer = on_answer
        self._woken = False  # a wake-up is queued in the loop (answers after it are seen by it)
        self.usr = ctypes.py_object(self)  # every request's usr: a pointer to this batch, not a reference

    def issued(self) -> None:
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
        if self.on_answer is not None and not self.finished:
            self.on_answer()
        self.check()

    def check(self) -> None:
        if self.remaining <= 0 and self.connecting <= 0 and self.deferred <= 0:
            self.event.set()


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
    batch: Batch, channels: dict[str, Chan], issue: Callable[[str, Chan], None], timeout: float
) -> set[str]:
    """Issue now for connected channels, on connection for the others; wait once. Returns never-connected."""
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

    for address, chan in channels.items():
        if chan.connected:
            issue(address, chan)
        else:
            batch.connecting += 1
            waiting[address] = waiter(address)
            chan.listeners.append(waiting[address])
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


def ca_error(exc: Exception) -> str:
    """A libca exception as our error text; a lost channel is plain "disconnected" (the breaker counts it)."""
    if isinstance(exc, cadef.Disconnected):
        return "disconnected"
    status = getattr(exc, "status", None)
    if status == cadef.ECA_DISCONN:
        return "disconnected"
    return cadef.ca_message(status) if isinstance(status, int) else str(exc)
