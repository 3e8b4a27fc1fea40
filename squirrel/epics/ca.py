"""Bulk Channel Access: one libca request per channel, one shared handler, one event, one timeout per batch.

aioca keeps the channels (creation, connection tracking, its per-loop cache); the requests themselves go
straight to libca (`ca_array_get_callback` / `ca_array_put_callback`) because aioca's list calls cost a
coroutine, a task and a cross-thread wake-up per PV (PITFALLS.md: 5-9x slower at 50K PVs). A dead IOC
costs one timeout for the whole batch, and PVs behind an open circuit are skipped at once.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import msgspec
from aioca._catools import get_channel
from epicscorelibs.ca import cadef, dbr

from squirrel.epics import values as V
from squirrel.epics.breaker import BreakerSet
from squirrel.epics.cache import PVState

Outcome = Literal["written", "timeout", "disconnected", "failed"]


class WriteResult(msgspec.Struct):
    outcome: Outcome
    error: str | None = None


# A private function pointer (CDLL[...] makes a new one): cadef's wrapper decodes through a slow helper.
_ca_host_name = cadef.libca["ca_host_name"]
_ca_host_name.argtypes = [ctypes.c_void_p]
_ca_host_name.restype = ctypes.c_char_p


def channel_server(channel: Any) -> str | None:
    """The CA server host:port libca reports for a connected channel (None when not connected)."""
    try:
        raw: bytes | None = _ca_host_name(channel._as_parameter_)
    except Exception:
        return None
    host = raw.decode("ascii", "replace") if raw else ""
    return None if not host or host.startswith("<") else host


class _Waiter:
    """Waits for one aioca channel: aioca calls `_on_connect` (in the loop) on each connection change."""

    __slots__ = ("channel", "done", "on_up")

    def __init__(self, channel: Any, on_up: Callable[[Any], None]) -> None:
        self.channel = channel
        self.on_up = on_up
        self.done = False
        channel._add_subscription(self)

    def _on_connect(self, connected: bool) -> None:
        if connected and not self.done:
            self.done = True
            # aioca is iterating the channel's subscriber set right now: leave it on the next pass.
            asyncio.get_running_loop().call_soon(self.close)
            self.on_up(self.channel)

    def close(self) -> None:
        try:
            self.channel._remove_subscription(self)
        except KeyError:
            pass


class _Batch:
    """Completion bookkeeping for one bulk call; usr of every request (one reference per request)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.event = asyncio.Event()
        self.lock = threading.Lock()
        self.remaining = 0
        self.connecting = 0
        self.finished = False
        self.slots: dict[int, list[Any]] = {}  # chid -> [address, dbf, count, time_conv, ctrl_conv, time, ctrl, err]
        self.flush_pending = False

    def issued(self, n: int = 1) -> None:
        with self.lock:
            self.remaining += n

    def completed(self) -> None:
        with self.lock:
            self.remaining -= 1
            done = self.remaining <= 0
        if done and not self.finished and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.check)

    def check(self) -> None:
        if self.remaining <= 0 and self.connecting <= 0:
            self.event.set()

    def flush_soon(self) -> None:
        # Many connects arrive as separate loop callbacks: one ca_flush_io per loop pass, not per PV.
        if not self.flush_pending:
            self.flush_pending = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self.flush_pending = False
        cadef.ca_flush_io()


def _handle_get(args: Any) -> None:  # pragma: no cover - runs in a libca thread
    batch: _Batch = args.usr
    ctypes.pythonapi.Py_DecRef(batch)
    slot = None
    try:
        slot = batch.slots.get(args.chid)
        if slot is not None:
            if args.status != cadef.ECA_NORMAL:
                slot[7] = "disconnected" if args.status == cadef.ECA_DISCONN else cadef.ca_message(args.status)
            elif args.type >= dbr.DBR_CTRL_SHORT:
                slot[6] = slot[4](args.raw_dbr, args.type, args.count)
            else:
                slot[5] = slot[3](args.raw_dbr, args.type, args.count)
    except Exception as exc:  # never raise into libca
        if slot is not None:
            slot[7] = f"conversion failed: {exc}"
    finally:
        batch.completed()


def _handle_put(args: Any) -> None:  # pragma: no cover - runs in a libca thread
    batch: _Batch = args.usr
    ctypes.pythonapi.Py_DecRef(batch)
    try:
        slot = batch.slots.get(args.chid)
        if slot is not None:
            slot[5] = args.status
    finally:
        batch.completed()


# ctypes keeps these callbacks alive for the process (module globals).
_on_get: Any = cadef.event_handler(_handle_get)
_on_put: Any = cadef.event_handler(_handle_put)


def _split(addresses: Sequence[str], breakers: BreakerSet | None) -> tuple[list[str], dict[str, Any], dict[str, str]]:
    """(unique addresses, address -> channel, address -> skip reason)."""
    unique = list(dict.fromkeys(addresses))
    channels: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for address in unique:
        if breakers is not None and not breakers.allows_address(address):
            skipped[address] = "circuit open"
            continue
        channels[address] = get_channel(address)
    return unique, channels, skipped


async def _run_batch(
    batch: _Batch,
    channels: dict[str, Any],
    issue: Callable[[str, Any], None],
    timeout: float,
) -> set[str]:
    """Issue now for connected channels, on connection for the others; wait once. Returns never-connected."""
    by_channel = {id(c): a for a, c in channels.items()}

    def on_up(channel: Any) -> None:
        batch.connecting -= 1
        if not batch.finished:
            issue(by_channel[id(channel)], channel)
            batch.flush_soon()
        batch.check()

    waiters: dict[str, _Waiter] = {}
    for address, channel in channels.items():
        if channel.connected():
            issue(address, channel)
        else:
            batch.connecting += 1
            waiters[address] = _Waiter(channel, on_up)
    cadef.ca_flush_io()
    batch.check()
    try:
        if not batch.event.is_set():
            await asyncio.wait_for(batch.event.wait(), timeout)
    except TimeoutError:
        pass
    finally:
        batch.finished = True
        never = {a for a, w in waiters.items() if not w.channel.connected()}
        for w in waiters.values():
            w.close()
    return never


def _account(breakers: BreakerSet | None, outcomes: dict[str, tuple[str | None, str | None]]) -> None:
    """One success / failure per server per batch: address -> (server, error or None)."""
    if breakers is None:
        return
    ok: set[str] = set()
    failed: dict[str, str] = {}
    for address, (server, error) in outcomes.items():
        server = server or breakers.server_of(address)
        if server is None:
            continue
        if error is None:
            ok.add(server)
        elif error in ("timeout", "disconnected"):
            failed.setdefault(server, error)
    for server in ok:
        breakers.record_success(server)
    for server, error in failed.items():
        if server not in ok:
            breakers.record_failure(server, error)


async def read_many(
    addresses: Sequence[str], timeout: float, breakers: BreakerSet | None = None, *, ctrl: bool = True
) -> dict[str, PVState]:
    """TIME value + CTRL metadata of every address; failures come back connected=False with `error` set."""
    loop = asyncio.get_running_loop()
    batch = _Batch(loop)
    unique, channels, skipped = _split(addresses, breakers)

    def issue(address: str, channel: Any) -> None:
        try:
            dbf = cadef.ca_field_type(channel)
            count = cadef.ca_element_count(channel)
            time_code, time_conv = dbr.type_to_dbr(channel, None, dbr.FORMAT_TIME)
            ctrl_code, ctrl_conv = dbr.type_to_dbr(channel, None, dbr.FORMAT_CTRL)
        except Exception as exc:
            batch.slots[channel._as_parameter_] = [address, 0, 0, None, None, None, None, _ca_error(exc)]
            return
        slot = [address, dbf, count, time_conv, ctrl_conv, None, None, None]
        batch.slots[channel._as_parameter_] = slot
        requests = [time_code] + ([ctrl_code] if ctrl and ctrl_code != time_code else [])
        for code in requests:
            batch.issued()
            ctypes.pythonapi.Py_IncRef(batch)
            try:
                cadef.ca_array_get_callback(code, 0, channel, _on_get, ctypes.py_object(batch))
            except Exception as exc:
                ctypes.pythonapi.Py_DecRef(batch)
                batch.completed()
                slot[7] = _ca_error(exc)

    never = await _run_batch(batch, channels, issue, timeout)
    by_address = {slot[0]: slot for slot in batch.slots.values()}
    now = time.time()
    out: dict[str, PVState] = {}
    outcomes: dict[str, tuple[str | None, str | None]] = {}
    for address in unique:
        state = PVState(address=address, updated_at=now)
        out[address] = state
        if address in skipped:
            state.error = skipped[address]
            continue
        slot = by_address.get(address)
        server = channel_server(channels[address]) if address not in never else None
        if breakers is not None and server:
            breakers.learn(address, server)
        if slot is None:
            state.error = "disconnected" if address in never else "timeout"
        elif slot[7] is not None:
            state.error = slot[7]
        elif slot[5] is None:
            state.error = "timeout"
        else:
            _, dbf, count, _, _, tval, cval, _ = slot
            if cval is not None:
                V.apply_ctrl(state, cval, dbf, count)
            V.apply_time(state, tval, dbf, count)
            state.connected = True
            state.server = server
            state.connected_at = now
        outcomes[address] = (server, state.error)
    _account(breakers, outcomes)
    return out


async def write_many(
    items: Sequence[tuple[str, Any]], timeout: float, wait: bool = True, breakers: BreakerSet | None = None
) -> dict[str, WriteResult]:
    """Put every (address, value); with `wait`, put-with-completion and one timeout for the batch."""
    loop = asyncio.get_running_loop()
    batch = _Batch(loop)
    wanted = dict(items)  # the last value wins for a repeated address
    unique, channels, skipped = _split(list(wanted), breakers)
    results: dict[str, WriteResult] = {}

    def issue(address: str, channel: Any) -> None:
        try:
            dbf = cadef.ca_field_type(channel)
            count = cadef.ca_element_count(channel)
            code, buffer = V.to_ca(wanted[address], dbf, count)
        except ValueError as exc:
            results[address] = WriteResult("failed", str(exc))
            return
        except Exception as exc:
            error = _ca_error(exc)
            results[address] = WriteResult("disconnected" if error == "disconnected" else "failed", error)
            return
        if not wait:
            try:
                cadef.ca_array_put(code, len(buffer), channel, buffer.ctypes.data)
                results[address] = WriteResult("written")
            except Exception as exc:
                results[address] = WriteResult("failed", _ca_error(exc))
            return
        slot = [address, dbf, count, None, None, None, None, None]
        batch.slots[channel._as_parameter_] = slot
        batch.issued()
        ctypes.pythonapi.Py_IncRef(batch)
        try:
            data = buffer.ctypes.data
            cadef.ca_array_put_callback(code, len(buffer), channel, data, _on_put, ctypes.py_object(batch))
        except Exception as exc:
            ctypes.pythonapi.Py_DecRef(batch)
            batch.completed()
            del batch.slots[channel._as_parameter_]
            error = _ca_error(exc)
            results[address] = WriteResult("disconnected" if error == "disconnected" else "failed", error)

    never = await _run_batch(batch, channels, issue, timeout)
    by_address = {slot[0]: slot for slot in batch.slots.values()}
    out: dict[str, WriteResult] = {}
    outcomes: dict[str, tuple[str | None, str | None]] = {}
    for address in unique:
        server = None if address in skipped or address in never else channel_server(channels[address])
        if address in skipped:
            out[address] = WriteResult("disconnected", skipped[address])
        elif address in results:
            out[address] = results[address]
        elif address in never:
            out[address] = WriteResult("disconnected", "disconnected")
        else:
            slot = by_address.get(address)
            status = None if slot is None else slot[5]
            if status is None:
                out[address] = WriteResult("timeout", f"no put completion within {timeout:g} s")
            elif status == cadef.ECA_NORMAL:
                out[address] = WriteResult("written")
            elif status == cadef.ECA_DISCONN:
                out[address] = WriteResult("disconnected", "disconnected")
            else:
                out[address] = WriteResult("failed", cadef.ca_message(status))
        if breakers is not None and server:
            breakers.learn(address, server)
        result = out[address]
        error = None if result.outcome in ("written", "failed") else result.outcome
        if address not in skipped:
            outcomes[address] = (server, error)
    _account(breakers, outcomes)
    return out


def _ca_error(exc: Exception) -> str:
    """A libca exception as our error text; a lost channel is plain "disconnected" (the breaker counts it)."""
    if isinstance(exc, cadef.Disconnected):
        return "disconnected"
    status = getattr(exc, "status", None)
    if status == cadef.ECA_DISCONN:
        return "disconnected"
    return cadef.ca_message(status) if isinstance(status, int) else str(exc)
