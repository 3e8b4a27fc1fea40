"""The embedded monitor: one libca subscription per registry address, feeding the PV cache.

aioca keeps the channels and tells us (in the loop) when one connects or drops; subscriptions and the
one CTRL get per (re)connection go straight to libca with shared handlers. Updates from libca threads
are queued and applied in the loop in batches (one wake-up per batch), so the per-update work is a
conversion, an in-place cache update and a dirty mark. Handlers never raise into libca.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog
from aioca._catools import get_channel
from epicscorelibs.ca import cadef, dbr

from squirrel.epics import values as V
from squirrel.epics.breaker import BreakerSet
from squirrel.epics.ca import channel_server
from squirrel.epics.cache import PVCache, PVState

log = structlog.get_logger(__name__)
SYNC_CHUNK = 1000  # channels created per loop pass at start-up, so the loop keeps answering
APPLY_CHUNK = 2000  # queued updates applied per loop pass
CONNECT_CHUNK = 500  # connections handled per loop pass (subscription + CTRL get each)
_EVENTS = cadef.DBE_VALUE | cadef.DBE_ALARM


class _Watch:
    """One monitored address; registered with its aioca channel to hear connection changes."""

    __slots__ = (
        "address",
        "channel",
        "count",
        "ctrl_conv",
        "dbf",
        "event_id",
        "monitor",
        "server",
        "state",
        "time_conv",
    )

    def __init__(self, monitor: Monitor, address: str, state: PVState) -> None:
        self.monitor = monitor
        self.address = address
        self.state = state
        self.channel: Any = None
        self.event_id: int | None = None
        self.dbf = -1
        self.count = 0
        self.time_conv: Any = None
        self.ctrl_conv: Any = None
        self.server: str | None = None

    def _on_connect(self, connected: bool) -> None:  # called by aioca, in the loop
        if connected:
            self.monitor._queue_connect(self)  # the costly part runs in chunks (50K connect at once)
            return
        try:
            self.monitor._connection(self, False)  # cheap, and must show at once
        except Exception:
            self.monitor.errors += 1
            log.exception("monitor disconnect handler failed", address=self.address)

    def close(self) -> None:  # aioca purges call this
        self.monitor._drop(self)


def _handle_update(args: Any) -> None:  # libca thread
    w: _Watch = args.usr
    try:
        if args.status == cadef.ECA_NORMAL:
            w.monitor._push(w, False, w.time_conv(args.raw_dbr, args.type, args.count))
    except Exception:
        w.monitor.errors += 1


def _handle_ctrl(args: Any) -> None:  # libca thread; one reference taken per request
    w: _Watch = args.usr
    ctypes.pythonapi.Py_DecRef(w)
    try:
        if args.status == cadef.ECA_NORMAL and w.ctrl_conv is not None:
            w.monitor._push(w, True, w.ctrl_conv(args.raw_dbr, args.type, args.count))
    except Exception:
        w.monitor.errors += 1


_on_update: Any = cadef.event_handler(_handle_update)
_on_ctrl: Any = cadef.event_handler(_handle_ctrl)


class Monitor:
    def __init__(
        self,
        cache: PVCache,
        breakers: BreakerSet | None = None,
        *,
        load_addresses: Callable[[], Awaitable[set[str]]] | None = None,
        conninfo: str | None = None,
        resync_interval: float = 30.0,
    ) -> None:
        self.cache = cache
        self.breakers = breakers
        self.running = False
        self.errors = 0
        self.started_at: float | None = None
        self.initial_sync_s: float | None = None
        self.all_connected_s: float | None = None
        self.last_sync_at: float | None = None
        self.resyncs = 0
        self._load = load_addresses
        self._conninfo = conninfo
        self._resync_interval = resync_interval
        self._watches: dict[str, _Watch] = {}
        self._server_up: dict[str, int] = {}
        self._queue: deque[tuple[_Watch, bool, Any]] = deque()
        self._scheduled = False
        self._lock = threading.Lock()
        self._flush_pending = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._sync_lock = asyncio.Lock()
        self._rate: deque[tuple[float, int]] = deque(maxlen=11)
        self._connects: deque[_Watch] = deque()
        self._connect_wake = asyncio.Event()

    # --- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.started_at = time.time()
        self.running = True
        self._tasks.append(asyncio.create_task(self._sample_rate()))
        self._tasks.append(asyncio.create_task(self._connect_worker()))
        if self._load is not None:
            self._tasks.append(asyncio.create_task(self._resync_loop()))
        if self._conninfo is not None:
            self._tasks.append(asyncio.create_task(self._listen_loop()))

    async def stop(self) -> None:
        self.running = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for w in list(self._watches.values()):
            self._unwatch(w)
        cadef.ca_flush_io()

    def request_resync(self) -> None:
        self._wake.set()

    # --- the registry, followed live ------------------------------------------------------------
    async def sync(self, addresses: set[str]) -> None:
        """(Un)subscribe the difference to `addresses`, in chunks so the loop keeps answering."""
        async with self._sync_lock:
            t0 = time.monotonic()
            for address in [a for a in self._watches if a not in addresses]:
                self._unwatch(self._watches[address])
            new = [a for a in addresses if a not in self._watches]
            for i in range(0, len(new), SYNC_CHUNK):
                for address in new[i : i + SYNC_CHUNK]:
                    self._watch(address)
                cadef.ca_flush_io()
                await asyncio.sleep(0)
            self.last_sync_at = time.time()
            if self.initial_sync_s is None:
                self.initial_sync_s = time.monotonic() - t0

    async def _resync_loop(self) -> None:
        assert self._load is not None
        while True:
            try:
                await self.sync(await self._load())
                self.resyncs += 1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("monitor resync failed; will retry", error=str(exc))
                await asyncio.sleep(1.0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._resync_interval)
            self._wake.clear()
            await asyncio.sleep(0.05)  # let a burst of registry changes settle into one resync

    async def _listen_loop(self) -> None:
        import psycopg

        assert self._conninfo is not None
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
                    await conn.execute("LISTEN squirrel_registry")
                    self.request_resync()  # changes made while we were not listening
                    async for _ in conn.notifies():
                        self.request_resync()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("registry LISTEN connection lost; reconnecting", error=str(exc))
                await asyncio.sleep(1.0)

    # --- subscriptions ---------------------------------------------------------------------------
    def _watch(self, address: str) -> None:
        w = _Watch(self, address, self.cache.ensure(address))
        self._watches[address] = w
        w.channel = get_channel(address)
        w.channel._add_subscription(w)
        if w.channel.connected():
            self._queue_connect(w)

    def _queue_connect(self, w: _Watch) -> None:
        self._connects.append(w)
        self._connect_wake.set()

    async def _connect_worker(self) -> None:
        """Handle (re)connections CONNECT_CHUNK at a time, yielding between chunks so the loop answers."""
        queue = self._connects
        while True:
            await self._connect_wake.wait()
            self._connect_wake.clear()
            while queue:
                for _ in range(min(CONNECT_CHUNK, len(queue))):
                    w = queue.popleft()
                    if w.channel is None or not w.channel.connected():
                        continue  # dropped again before we got to it; the disconnect was handled
                    try:
                        self._connection(w, True)
                    except Exception:
                        self.errors += 1
                        log.exception("monitor connect handler failed", address=w.address)
                cadef.ca_flush_io()
                await asyncio.sleep(0)

    def _unwatch(self, w: _Watch) -> None:
        self._watches.pop(w.address, None)
        with contextlib.suppress(KeyError):
            w.channel._remove_subscription(w)
        self._clear_subscription(w)
        if w.server is not None:
            self._server_down(w.server, last_only=False)
            w.server = None
        self.cache.discard(w.address)

    def _drop(self, w: _Watch) -> None:
        # aioca purged the channel (shutdown): forget the subscription without touching libca again.
        w.event_id = None
        self._watches.pop(w.address, None)

    def _clear_subscription(self, w: _Watch) -> None:
        if w.event_id is not None:
            with contextlib.suppress(Exception):
                cadef.ca_clear_subscription(w.event_id)
            w.event_id = None

    def _connection(self, w: _Watch, connected: bool) -> None:
        if self._watches.get(w.address) is not w:
            return
        if not connected:
            self.cache.set_connected(w.address, False)
            if w.server is not None:
                self._server_down(w.server, last_only=True)
                w.server = None
            return
        if w.server is not None:  # a second connect without a disconnect between: count it once
            self._server_down(w.server, last_only=False)
            w.server = None
        channel = w.channel
        server = channel_server(channel)
        dbf, count = cadef.ca_field_type(channel), cadef.ca_element_count(channel)
        if w.event_id is not None and (dbf != w.dbf or count != w.count):
            self._clear_subscription(w)  # the record changed type across an IOC restart
        w.dbf, w.count = dbf, count
        time_code, w.time_conv = dbr.type_to_dbr(channel, None, dbr.FORMAT_TIME)
        ctrl_code, w.ctrl_conv = dbr.type_to_dbr(channel, None, dbr.FORMAT_CTRL)
        self.cache.set_connected(w.address, True, server)
        if server is not None:
            w.server = server
            self._server_up[server] = self._server_up.get(server, 0) + 1
            if self.breakers is not None:
                self.breakers.learn(w.address, server)
                if self._server_up[server] == 1:
                    self.breakers.server_up(server)
        if w.event_id is None:  # libca keeps a subscription across reconnects by itself
            event_id = ctypes.c_void_p()
            cadef.ca_create_subscription(
                time_code, 0, channel, _EVENTS, _on_update, ctypes.py_object(w), ctypes.byref(event_id)
            )
            w.event_id = event_id.value
        if ctrl_code != dbr.DBR_TIME_STRING:
            ctypes.pythonapi.Py_IncRef(w)
            try:
                cadef.ca_array_get_callback(ctrl_code, 0, channel, _on_ctrl, ctypes.py_object(w))
            except Exception:
                ctypes.pythonapi.Py_DecRef(w)
                self.errors += 1
        self._flush_soon()

    def _server_down(self, server: str, last_only: bool) -> None:
        left = self._server_up.get(server, 0) - 1
        if left > 0:
            self._server_up[server] = left
            return
        self._server_up.pop(server, None)
        if last_only and self.breakers is not None:
            self.breakers.server_down(server)

    def _flush_soon(self) -> None:
        if not self._flush_pending and self._loop is not None:
            self._flush_pending = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        cadef.ca_flush_io()

    # --- updates: libca thread -> queue -> one loop callback per batch --------------------------
    def _push(self, w: _Watch, ctrl: bool, raw: Any) -> None:
        self._queue.append((w, ctrl, raw))
        if not self._scheduled:
            with self._lock:
                if self._scheduled:
                    return
                self._scheduled = True
            loop = self._loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._apply)

    def _apply(self) -> None:
        self._scheduled = False
        queue, mark, now = self._queue, self.cache.mark_dirty, time.time()
        n = 0
        for _ in range(min(len(queue), APPLY_CHUNK)):
            w, ctrl, raw = queue.popleft()
            try:
                state = w.state
                if ctrl:
                    V.apply_ctrl(state, raw, w.dbf, w.count)
                else:
                    V.apply_time(state, raw, w.dbf, w.count)
                    state.update_count += 1
                    n += 1
                state.updated_at = now
                mark(w.address)
            except Exception:
                self.errors += 1
        self.cache.total_updates += n
        if queue and not self._scheduled and self._loop is not None:
            # A start-up burst: give the loop back between chunks instead of one long stall.
            self._scheduled = True
            self._loop.call_soon(self._apply)

    # --- figures ---------------------------------------------------------------------------------
    async def _sample_rate(self) -> None:
        while True:
            self._rate.append((time.monotonic(), self.cache.total_updates))
            if self.all_connected_s is None and self._watches and self.started_at is not None:
                if all(w.state.connected for w in self._watches.values()):
                    self.all_connected_s = time.time() - self.started_at
            await asyncio.sleep(1.0)

    @property
    def updates_per_s(self) -> float:
        if len(self._rate) < 2:
            return 0.0
        (t0, c0), (t1, c1) = self._rate[0], self._rate[-1]
        return (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0

    @property
    def subscribed(self) -> int:
        return len(self._watches)

    def addresses(self) -> Iterable[str]:
        return self._watches.keys()
