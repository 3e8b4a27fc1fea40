"""libca channels shared by the monitor and bulk reads/writes, with connection changes batched.

aioca's channels cost a `ca_flush_io` per channel created and one cross-thread loop wake-up per
connection change: at 50K PVs the loop spends seconds on wake-ups. Here one shared connection handler
queues changes and wakes the loop once per batch; the loop applies them CHUNK at a time (type, count,
server read once per connection) and tells each channel's listeners. Creators flush once per chunk.
One pool per event loop (libca calls back from its own threads into that loop).

Channels are leased: the monitor holds one per subscribed address, a bulk read/write one per address
for the length of its batch. When the last lease goes the channel is cleared after `idle_grace`
seconds (a PV removed and re-added, or read again soon, keeps its channel and metadata).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from epicscorelibs.ca import cadef

from squirrel.epics._context import attach_thread
from squirrel.epics._decoders import Decoder, decoder_for
from squirrel.epics._window import ServerWindow
from squirrel.pv import CtrlMeta

log = structlog.get_logger(__name__)
CHUNK = 250  # connection changes applied per loop pass
INLINE_CREATE = 200  # fewer new channels than this are created in the loop itself
FLUSH_EVERY = 1000
IDLE_GRACE = 10.0  # s an unleased channel stays open before it is cleared

# Private function pointers without cadef's errcheck (which raises on a channel that just dropped).
_ca_puser = cadef.libca["ca_puser"]
_ca_puser.argtypes = [ctypes.c_void_p]
_ca_puser.restype = ctypes.py_object
_ca_puser.errcheck = cadef.convert_py_object  # ctypes takes the result as a new reference: add it
_ca_field_type = cadef.libca["ca_field_type"]
_ca_field_type.argtypes = [ctypes.c_void_p]
_ca_field_type.restype = ctypes.c_short
_ca_element_count = cadef.libca["ca_element_count"]
_ca_element_count.argtypes = [ctypes.c_void_p]
_ca_element_count.restype = ctypes.c_ulong
_ca_host_name = cadef.libca["ca_host_name"]
_ca_host_name.argtypes = [ctypes.c_void_p]
_ca_host_name.restype = ctypes.c_char_p
_Ensure = ctypes.pythonapi.PyGILState_Ensure
_pinned: set[int] = set()


def pin_thread_state() -> None:
    """Keep this libca thread's Python thread state for good (call first thing in a callback).

    ctypes makes and destroys a thread state around every callback from a foreign thread when none
    exists; holding one extra PyGILState_Ensure makes later callbacks reuse it."""
    ident = threading.get_ident()
    if ident not in _pinned:
        _pinned.add(ident)
        _Ensure()


Listener = Callable[["Chan", bool], None]


class Chan:
    """One libca channel. `dbf`, `count`, `server` are valid while connected (read once per connection),
    and `decoder` reads its payloads (picked then; None: a type Squirrel does not read)."""

    __slots__ = (
        "cleared",
        "connected",
        "count",
        "dbf",
        "decoder",
        "generation",
        "id",
        "leases",
        "listeners",
        "meta",
        "meta_at",
        "meta_generation",
        "name",
        "pool",
        "server",
    )

    def __init__(self, name: str, pool: ChannelPool) -> None:
        self.name = name
        self.pool = pool
        self.id = 0  # the chid, also `_as_parameter_`
        self.connected = False
        self.dbf = -1
        self.count = 0
        self.decoder: Decoder | None = None
        self.server: str | None = None
        self.generation = 0  # counts connections
        self.leases = 0  # holders (monitor watch, running batch); 0: cleared after the grace period
        self.cleared = False  # ca_clear_channel done: queued connection events for it are dropped
        self.listeners: list[Listener] = []
        self.meta: CtrlMeta | None = None  # CTRL metadata of this connection (monitor or a direct read)
        self.meta_at: float | None = None  # when a direct read got it; None: kept live by the monitor
        self.meta_generation = -1

    @property
    def _as_parameter_(self) -> int:
        return self.id

    def fresh_meta(self, now: float, max_age: float) -> CtrlMeta | None:
        """The metadata of this connection, if live (monitored) or read less than max_age ago."""
        if self.meta_generation != self.generation:
            return None
        if self.meta_at is not None and now - self.meta_at > max_age:
            return None
        return self.meta

    def set_meta(self, meta: CtrlMeta, at: float | None) -> None:
        """Metadata of the current connection; `at` None = a monitor subscription keeps it current."""
        if self.meta_at is None and at is not None and self.meta_generation == self.generation:
            return  # the monitor's live copy stays authoritative
        self.meta, self.meta_at, self.meta_generation = meta, at, self.generation

    def drop_meta(self) -> None:
        self.meta, self.meta_at, self.meta_generation = None, None, -1


def _host(chid: int) -> str | None:
    try:
        raw: bytes | None = _ca_host_name(chid)
    except Exception:
        return None
    host = raw.decode("ascii", "replace") if raw else ""
    return None if not host or host.startswith("<") else host


def _handle_connection(args: Any) -> None:  # pragma: no cover - libca thread
    pin_thread_state()
    try:
        chan: Chan = _ca_puser(args.chid)
        if chan.id == 0:  # connected before the creating thread stored its chid
            chan.id = args.chid
        if args.op == cadef.CA_OP_CONN_UP:
            # Type, count and server are read here, in libca's thread, not by the loop: every ctypes
            # call the loop makes releases the GIL, and at 50K connections it waits long to get it back.
            chid = args.chid
            chan.pool._event(chan, True, _ca_field_type(chid), _ca_element_count(chid), _host(chid))
        else:
            chan.pool._event(chan, False, -1, 0, None)
    except Exception:
        pass  # never raise into libca


_on_connection: Any = cadef.connection_handler(_handle_connection)


class ChannelPool:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.channels: dict[str, Chan] = {}
        self._events: deque[tuple[Chan, bool, int, int, str | None]] = deque()
        self._scheduled = False
        self._create_lock = asyncio.Lock()
        self.closed = False
        self.idle_grace = IDLE_GRACE
        self._idle: dict[str, float] = {}  # unleased channel -> monotonic time it is cleared at
        self._reaper: asyncio.TimerHandle | None = None
        self._creating = 0  # channel creations running in worker threads
        self.put_window = ServerWindow()  # puts with completion in flight per server (write_many)

    async def acquire(self, names: Iterable[str]) -> dict[str, Chan]:
        """A lease on the channel of each of `names`, creating (and flushing) the missing ones.

        Give every lease back with `release`. ca_create_channel waits for libca's callback lock, which
        every circuit thread holds while it dispatches a received buffer: at 50K connections in flight
        a creation can take 100+ µs. Large batches are therefore created in a worker thread, so the
        loop keeps answering meanwhile."""
        wanted = list(dict.fromkeys(names))
        async with self._create_lock:
            out: dict[str, Chan] = {}
            new: list[Chan] = []
            for name in wanted:
                chan = self.channels.get(name)
                if chan is None:
                    chan = self.channels[name] = Chan(name, self)
                    new.append(chan)
                chan.leases += 1  # taken before any await: the reaper leaves leased channels alone
                self._idle.pop(name, None)
                out[name] = chan
            try:
                if len(new) > INLINE_CREATE:
                    self._creating += 1  # the worker thread gives it back when done, even if we are cancelled
                    await self.loop.run_in_executor(None, self._create_off_loop, new)
                elif new:
                    _create(new)
            except Exception:  # libca refused a name: creation has stopped, forget the uncreated ones
                for chan in new:
                    if not chan.id:
                        del self.channels[chan.name]
                self.release(wanted)
                raise
            except BaseException:  # cancelled: a worker thread may still be creating; the reaper waits
                self.release(wanted)
                raise
        return out

    def release(self, names: Iterable[str]) -> None:
        """Give back one lease per name; unleased channels are cleared `idle_grace` s later."""
        if self.closed:
            return
        deadline = time.monotonic() + self.idle_grace
        for name in names:
            chan = self.channels.get(name)
            if chan is None or chan.leases <= 0:
                continue
            chan.leases -= 1
            if chan.leases == 0:
                self._idle[name] = deadline
        if self._idle and self._reaper is None:
            self._reaper = self.loop.call_later(self.idle_grace, self._reap)

    def has(self, name: str) -> bool:
        """Whether a channel for `name` is open (leased, or idle within its grace period)."""
        return name in self.channels

    def open_count(self) -> int:
        return len(self.channels)

    def _create_off_loop(self, chans: list[Chan]) -> None:  # worker thread
        try:
            _create(chans)
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is closed: purge handles the rest
                self.loop.call_soon_threadsafe(self._created)

    def _created(self) -> None:
        self._creating -= 1

    def _reap(self) -> None:
        """Clear channels idle past their deadline (CHUNK per pass; the loop thread, in the CA context)."""
        self._reaper = None
        if self.closed:
            return
        now = time.monotonic()
        if self._creating:  # a worker thread may still be setting a chid: look again shortly
            self._reaper = self.loop.call_later(0.1, self._reap)
            return
        due = [name for name, deadline in self._idle.items() if deadline <= now][:CHUNK]
        if due:
            attach_thread()
        for name in due:
            del self._idle[name]
            chan = self.channels.get(name)
            if chan is not None and chan.leases == 0:
                del self.channels[name]
                self._clear(chan)
        if due:
            cadef.ca_flush_io()
        if self._idle:
            later = max(0.0, min(self._idle.values()) - now) if len(due) < CHUNK else 0.0
            self._reaper = self.loop.call_later(later, self._reap)

    @staticmethod
    def _clear(chan: Chan) -> None:
        """ca_clear_channel: libca takes its callback lock first, so no callback for it runs afterwards.

        Its outstanding gets/puts are cancelled without a callback; only unleased channels get here,
        and a batch that gave its leases back has stopped waiting (its timeout ended it)."""
        chan.cleared = True
        chan.listeners.clear()
        chan.connected = False
        chan.drop_meta()
        if chan.id:
            try:
                cadef.ca_clear_channel(chan.id)
            except Exception:
                log.warning("ca_clear_channel failed", address=chan.name)
        chan.id = 0

    # --- connection changes: libca thread -> queue -> loop, CHUNK per pass -----------------------
    def _event(self, chan: Chan, up: bool, dbf: int, count: int, server: str | None) -> None:
        self._events.append((chan, up, dbf, count, server))
        if not self._scheduled:
            self._scheduled = True
            try:
                self.loop.call_soon_threadsafe(self._drain)
            except RuntimeError:
                pass  # the loop is closed; the pool is purged on the next one

    def _drain(self) -> None:
        self._scheduled = False
        events = self._events
        for _ in range(min(len(events), CHUNK)):
            chan, up, dbf, count, server = events.popleft()
            if self.closed or chan.cleared:
                continue
            if up:
                if dbf < 0:
                    continue  # dropped again already: its down event is queued
                chan.connected = True
                chan.dbf, chan.count, chan.server = dbf, count, server
                chan.decoder = decoder_for(dbf, count)
                chan.generation += 1
            elif not chan.connected:
                continue
            else:
                chan.connected = False
            for listener in list(chan.listeners):
                try:
                    listener(chan, up)
                except Exception:
                    log.exception("channel listener failed", address=chan.name)
        cadef.ca_flush_io()  # what listeners asked of libca (subscriptions, reads) goes out together
        if events and not self._scheduled:
            self._scheduled = True
            self.loop.call_soon(self._drain)

    def purge(self) -> None:
        """Clear every channel (shutdown, or the loop that owned them is gone)."""
        self.closed = True
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        self._idle.clear()
        for chan in self.channels.values():
            self._clear(chan)
        self.channels.clear()
        cadef.ca_flush_io()


def _create(chans: list[Chan]) -> None:
    """ca_create_channel for each (in the loop or a worker thread), one flush per FLUSH_EVERY."""
    attach_thread()
    for i, chan in enumerate(chans, 1):
        chid = ctypes.c_void_p()
        cadef.ca_create_channel(chan.name, _on_connection, ctypes.py_object(chan), 0, ctypes.byref(chid))
        chan.id = chid.value or 0
        if i % FLUSH_EVERY == 0:
            cadef.ca_flush_io()
    cadef.ca_flush_io()


_pools: dict[asyncio.AbstractEventLoop, ChannelPool] = {}


def pool() -> ChannelPool:
    """The channel pool of the running loop (pools of closed loops are purged on the way)."""
    loop = asyncio.get_running_loop()
    found = _pools.get(loop)
    if found is None:
        attach_thread()  # the loop's thread joins the process's CA context (made on first use)
        for old_loop, old in list(_pools.items()):
            if old_loop.is_closed():
                old.purge()
                del _pools[old_loop]
        found = _pools[loop] = ChannelPool(loop)
    return found


def pools() -> list[ChannelPool]:
    """Every open pool, one per event loop (an app under a test client runs in its own loop)."""
    return [p for p in list(_pools.values()) if not p.closed]


def purge() -> None:
    """Clear the running loop's channels (tests call it before their loop closes)."""
    loop = asyncio.get_running_loop()
    found = _pools.pop(loop, None)
    if found is not None:
        found.purge()
