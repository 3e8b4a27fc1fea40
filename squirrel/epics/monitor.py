"""The embedded monitor: one libca subscription per registry address, feeding the PV cache.

Channels come from the shared pool (squirrel.epics._channels: connection changes batched into the loop).
Each connected channel gets a DBR_TIME subscription (value, alarm) and a DBR_CTRL one on property
changes (its first event is the metadata at once; libca renews both after a reconnect). The libca-thread
handlers only copy the payload bytes and queue the watch once; a newer payload replaces one not yet
applied (live values: the newest wins, memory stays flat under overload). The loop decodes and applies
queued payloads in chunks, one wake-up per batch. Handlers never raise into libca.

Registry notifications come through `listen` (the services hand in squirrel.db.registry_listen) and
are followed by squirrel.pv.RegistryFollower (shared with the PVA monitor): ids are applied alone (their
rows read, the address difference (un)subscribed); "resync", a (re)connected listener and a periodic
safety net reload the whole registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import threading
import time
from typing import Any

import structlog
from epicscorelibs.ca import cadef

from squirrel.epics._channels import Chan, pool
from squirrel.epics._context import attach_thread
from squirrel.epics._monitor_watch import Watch, _on_ctrl, _on_time
from squirrel.epics.breaker import BreakerSet
from squirrel.pv import Handover, Listen, LoadRows, MonitorCore, PVCache

log = structlog.get_logger(__name__)
SYNC_CHUNK = 2000  # channels created per loop pass at start-up, so the loop keeps answering
APPLY_CHUNK = 1000  # queued payloads applied per loop pass
SUBSCRIBE_CHUNK = 2000  # subscriptions (pairs) created per worker-thread call
INLINE_SUBSCRIBE = 50  # fewer than this are created in the loop itself (no thread hop)
_EVENTS = cadef.DBE_VALUE | cadef.DBE_ALARM
Taken = tuple[Watch, bytes | None, bytes | None]  # a watch and its newest TIME and CTRL payloads


class Monitor(MonitorCore[Watch]):
    protocol = "ca"

    def __init__(
        self,
        cache: PVCache,
        breakers: BreakerSet | None = None,
        *,
        load_rows: LoadRows | None = None,
        listen: Listen | None = None,
        resync_interval: float = 30.0,
    ) -> None:
        updates: Handover[Watch, Taken] = Handover(_take, self._apply, APPLY_CHUNK)
        super().__init__(cache, breakers, updates, load_rows=load_rows, listen=listen, resync_interval=resync_interval)
        self.initial_sync_s: float | None = None
        self.all_connected_s: float | None = None
        self.last_sync_at: float | None = None
        self._sub_lock = threading.Lock()  # subscription ids: created in a worker thread, cleared in the loop
        self._to_subscribe: list[Watch] = []
        self._subscribe_wake = asyncio.Event()

    def _own_tasks(self) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(self._subscriber())]

    def _unwatched_all(self) -> None:
        cadef.ca_flush_io()

    # --- the registry, followed live ------------------------------------------------------------
    async def _change(self, added: set[str], removed: set[str]) -> None:
        t0 = time.monotonic()
        for address in removed:
            if address in self._watches:
                self._unwatch(self._watches[address])
        # In name order: names that share a prefix mostly live on one IOC, so a search datagram asks for
        # names of one IOC and a chunk's channel and subscription requests go to few circuits. At 200K PVs
        # on 8 IOCs, hash-set order took 19.2 s to connect all and 47 CPU-s (ours and the IOCs' together);
        # name order 10.7 s and 23 CPU-s. The sort costs 10 ms at 50K, 60 ms at 200K.
        new = sorted(a for a in added if a not in self._watches)
        channels = await pool().acquire(new) if new else {}  # one lease per watch, given back by _unwatch
        try:
            for i in range(0, len(new), SYNC_CHUNK):
                for address in new[i : i + SYNC_CHUNK]:
                    self._watch(address, channels[address])
                cadef.ca_flush_io()
                await asyncio.sleep(0)
        except BaseException:
            pool().release(a for a in new if self._watches.get(a) is None)
            raise
        self.last_sync_at = time.time()
        if self.initial_sync_s is None:
            self.initial_sync_s = time.monotonic() - t0

    # --- subscriptions ---------------------------------------------------------------------------
    def _watch(self, address: str, chan: Chan) -> None:
        w = Watch(self, address, self.cache.ensure(address), chan)
        self._watches[address] = w
        chan.listeners.append(w.on_connection)
        if chan.connected:
            self._connection(w, True)

    def _unwatch(self, w: Watch) -> None:
        self._watches.pop(w.address, None)
        with contextlib.suppress(ValueError):
            w.chan.listeners.remove(w.on_connection)
        self._clear_subscriptions(w)
        if w.server is not None:
            self._server_lost(w.server, tell_breakers=False)
            w.server = None
        self.cache.discard(w.address)
        w.chan.pool.release([w.address])  # the channel closes after the pool's grace unless leased again

    def _clear_subscriptions(self, w: Watch) -> None:
        with self._sub_lock:
            if w.ctrl_id is not None:
                w.chan.drop_meta()  # nobody keeps it current any more
            for event_id in (w.event_id, w.ctrl_id):
                if event_id is not None:
                    with contextlib.suppress(Exception):
                        cadef.ca_clear_subscription(event_id)
            w.event_id = w.ctrl_id = None

    def _connection(self, w: Watch, connected: bool) -> None:
        if self._watches.get(w.address) is not w:
            return
        if not connected:
            self.cache.set_connected(w.address, False)
            if w.server is not None:
                self._server_lost(w.server, tell_breakers=True)
                w.server = None
            return
        if w.server is not None:  # a second connect without a disconnect between: count it once
            self._server_lost(w.server, tell_breakers=False)
            w.server = None
        chan = w.chan
        decoder = chan.decoder  # picked when the channel connected; one object per (type, count)
        if w.event_id is not None and decoder is not w.decoder:
            self._clear_subscriptions(w)  # the record changed type across an IOC restart
        if decoder is None:
            self.errors += 1
            log.warning("monitor: unsupported channel type", address=w.address, dbf=chan.dbf)
            return
        w.decoder = decoder
        server = chan.server
        self.cache.set_connected(w.address, True, server)
        if server is not None:
            w.server = server
            self._server_connected(w.address, server)
        if w.event_id is None:  # libca keeps (and renews) subscriptions across reconnects by itself
            self._to_subscribe.append(w)
            self._subscribe_wake.set()

    async def _subscriber(self) -> None:
        """Create queued subscriptions in a worker thread, SUBSCRIBE_CHUNK at a time.

        ca_create_subscription waits for libca's locks and send queue while 50K connections are in
        flight (~10 µs+ each): in a worker thread that wait no longer stalls the loop."""
        loop = asyncio.get_running_loop()
        while True:
            await self._subscribe_wake.wait()
            self._subscribe_wake.clear()
            while self._to_subscribe:
                # Take the whole queue, then chunk it: slicing the rest off per chunk copied it each time
                # (quadratic in the registry). Connections that arrive meanwhile queue for the next round.
                pending, self._to_subscribe = self._to_subscribe, []
                for start in range(0, len(pending), SUBSCRIBE_CHUNK):
                    chunk = pending[start : start + SUBSCRIBE_CHUNK]
                    try:
                        if len(chunk) > INLINE_SUBSCRIBE:
                            await loop.run_in_executor(None, self._subscribe_all, chunk)
                        else:
                            self._subscribe_all(chunk)
                    except Exception:  # keep subscribing the others; these wait for their next reconnect
                        self.errors += 1
                        log.exception("monitor subscription batch failed", pvs=len(chunk))

    def _subscribe_all(self, watches: list[Watch]) -> None:
        attach_thread()
        for w in watches:
            with self._sub_lock:
                if w.event_id is not None or self._watches.get(w.address) is not w or not w.chan.connected:
                    continue  # subscribed already, unwatched, or dropped (its reconnect queues it again)
                decoder = w.decoder
                if decoder is None:
                    continue
                w.event_id = self._subscribe(w, decoder.time_code, _EVENTS, _on_time)
                if decoder.ctrl_code is not None:  # strings have no CTRL form
                    w.ctrl_id = self._subscribe(w, decoder.ctrl_code, cadef.DBE_PROPERTY, _on_ctrl)
        cadef.ca_flush_io()

    def _subscribe(self, w: Watch, code: int, mask: int, handler: Any) -> int | None:
        event_id = ctypes.c_void_p()
        try:
            cadef.ca_create_subscription(code, 0, w.chan, mask, handler, ctypes.py_object(w), ctypes.byref(event_id))
        except Exception:
            self.errors += 1
            log.exception("monitor subscription failed", address=w.address)
            return None
        return event_id.value

    # --- updates: libca thread -> watch queue -> one loop callback per batch ---------------------
    def _push(self, w: Watch, data: bytes, ctrl: bool) -> None:
        updates = self._updates
        with updates.lock:
            if ctrl:
                w.ctrl_raw = data
            else:
                if w.raw is not None:
                    self.merged += 1
                w.raw = data
            wake = updates.queue_locked(w)
        if wake:
            updates.wake()

    def _apply(self, taken: list[Taken]) -> None:
        mark, now, n = self.cache.mark_dirty, time.time(), 0
        for w, raw, ctrl in taken:
            try:
                state, decoder = w.state, w.decoder
                if decoder is None:
                    continue
                if ctrl is not None:
                    count = (len(ctrl) - decoder.ctrl_offset) // decoder.element_size
                    w.chan.set_meta(decoder.apply_ctrl(state, ctrl, count), None)
                if raw is not None:
                    decoder.apply_time(state, raw, (len(raw) - decoder.time_offset) // decoder.element_size)
                    w.heard = True
                    state.update_count += 1
                    n += 1
                state.updated_at = now
                mark(w.address)
            except Exception:
                self.errors += 1
        self.cache.total_updates += n

    # --- figures ---------------------------------------------------------------------------------
    def _sampled(self) -> None:
        if self.all_connected_s is None and self._watches and self.started_at is not None:
            if all(w.state.connected for w in self._watches.values()):
                self.all_connected_s = time.time() - self.started_at


def _take(w: Watch) -> Taken:
    """The loop takes a watch's newest payloads (under the hand-over lock)."""
    raw, ctrl = w.raw, w.ctrl_raw
    w.raw = w.ctrl_raw = None
    return w, raw, ctrl
