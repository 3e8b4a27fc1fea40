"""The PVA monitor: one p4p subscription per pva:// registry key, feeding the shared PV cache.

p4p calls a subscription's handler in a PVXS worker thread when its queue becomes non-empty; the
handler only queues the watch once and schedules one loop callback per batch (never one per update).
The loop pops each queued subscription, applies the newest Value (older ones queued behind it are
merged: live values, the newest wins) and turns Disconnected into a visible disconnect. A structure
Squirrel cannot store (NTTable, NTNDArray, ...) is marked unsupported on its first connect.

The registry is followed as the CA monitor follows it (squirrel.pv.RegistryFollower): a notification's
ids are applied alone, only their pva:// keys (un)subscribed. Each key's warm-up is kept (subscribed
since, first value heard) for the cache snapshots' wait (services.monitoring.wait_warm).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import structlog

from squirrel.addresses import pva_name
from squirrel.pv import Handover, Listen, LoadRows, MonitorCore
from squirrel.pva import client
from squirrel.pva._ports import Breakers, Cache, Entry
from squirrel.pva._values import Kind, apply, mark_unsupported
from squirrel.pva.bulk import remember_kind

log = structlog.get_logger(__name__)
SYNC_CHUNK = 2000  # subscriptions created per loop pass
APPLY_CHUNK = 1000  # queued subscriptions handled per loop pass
INLINE_SUBSCRIBE = 50  # fewer subscriptions than this are created in the loop itself
POPS = 16  # entries popped from one subscription per pass (more: it is queued again)


class _Watch:
    __slots__ = ("connected", "heard", "key", "kind", "monitor", "queued", "server", "since", "state", "sub")

    def __init__(self, monitor: PvaMonitor, key: str, state: Entry) -> None:
        self.monitor = monitor
        self.key = key
        self.state = state
        self.sub: Any = None
        self.kind: Kind | None = None
        self.connected = False
        self.queued = False
        self.server = client.server_key(pva_name(key))
        self.since = time.monotonic()  # when the monitor subscribed it (warm-up is counted from here)
        self.heard = False  # its first value (or its unsupported structure) arrived

    def wake(self) -> None:  # a PVXS thread: queue once, wake the loop once per batch; never raises
        try:
            self.monitor._push(self)
        except Exception:
            pass


class PvaMonitor(MonitorCore[_Watch]):
    protocol = "pva"

    def __init__(
        self,
        cache: Cache,
        breakers: Breakers | None = None,
        *,
        load_rows: LoadRows | None = None,
        listen: Listen | None = None,
        resync_interval: float = 30.0,
    ) -> None:
        updates: Handover[_Watch, _Watch] = Handover(_take, self._apply, APPLY_CHUNK)
        super().__init__(cache, breakers, updates, load_rows=load_rows, listen=listen, resync_interval=resync_interval)
        self.unavailable: str | None = None  # set when p4p is missing and pva:// keys are registered
        self.unsupported: dict[str, str] = {}  # key -> why its structure cannot be stored
        self.total_updates = 0

    async def _change(self, added: set[str], removed: set[str]) -> None:
        for key in removed:
            if key in self._watches:
                self._unwatch(self._watches[key])
        new = [k for k in added if k not in self._watches]
        if not new:
            return
        try:
            ctxt = client.context()
        except client.PvaUnavailable as exc:
            self.unavailable = str(exc)
            for key in new:
                self.cache.ensure(key).error = self.unavailable
                self.cache.mark_dirty(key)
            return
        pv_request = client.request("field()")
        watches = []
        for key in new:
            w = _Watch(self, key, self.cache.ensure(key))
            self._watches[key] = w
            watches.append(w)
        loop = asyncio.get_running_loop()
        for i in range(0, len(watches), SYNC_CHUNK):
            chunk = watches[i : i + SYNC_CHUNK]
            if len(chunk) > INLINE_SUBSCRIBE:  # a worker thread: the loop keeps applying first values
                await loop.run_in_executor(None, self._subscribe, ctxt, chunk, pv_request)
            else:
                self._subscribe(ctxt, chunk, pv_request)

    def _subscribe(self, ctxt: Any, watches: list[_Watch], pv_request: Any) -> None:
        for w in watches:
            sub = client.monitor_op(ctxt, pva_name(w.key), w.wake, pv_request)
            if self._watches.get(w.key) is w and self.running:
                w.sub = sub
            else:  # unwatched meanwhile
                sub.close()

    def _unwatch(self, w: _Watch) -> None:
        self._watches.pop(w.key, None)
        if w.sub is not None:
            with contextlib.suppress(Exception):
                w.sub.close()
            w.sub = None
        if w.connected and w.kind is not None and not w.kind.unsupported:
            self._server_lost(w.server, tell_breakers=self.running)
        self.unsupported.pop(w.key, None)
        self.cache.discard(w.key)

    # --- updates: PVXS thread -> watch queue -> one loop callback per batch -----------------------
    def _push(self, w: _Watch) -> None:
        self._updates.push(w)

    def _apply(self, taken: list[_Watch]) -> None:
        for w in taken:
            try:
                self._drain(w)
            except Exception:
                self.errors += 1
                log.exception("pva monitor update failed", address=w.key)

    def _drain(self, w: _Watch) -> None:
        sub = w.sub
        if sub is None or self._watches.get(w.key) is not w:
            return
        latest: Any = None
        meta = False  # did display/control change in any Value merged into `latest`?
        meta_fields = w.kind.meta_fields if w.kind is not None else ()
        for _ in range(POPS):
            entry = sub.pop()
            if entry is None:
                break
            if isinstance(entry, BaseException):
                if latest is not None:
                    self._value(w, latest, meta)
                    latest, meta = None, False
                self._lost(w, entry)
            else:
                if latest is not None:
                    self.merged += 1
                latest = entry
                if meta_fields and not meta:
                    meta = entry.changed(*meta_fields)
        else:
            self._push(w)  # more queued than one pass takes
        if latest is not None:
            self._value(w, latest, meta)

    def _value(self, w: _Watch, value: Any, meta: bool = True) -> None:
        state, now = w.state, time.time()
        if not w.connected:
            meta = True  # a (re)connect: take the metadata whatever the server marked
            w.heard = True
            w.kind = Kind(value)
            w.connected = True
            if w.kind.unsupported:  # reachable but not storable: shown as missing, with the reason
                self.unsupported[w.key] = w.kind.unsupported
                log.warning("pva monitor: unsupported structure", address=w.key, reason=w.kind.unsupported)
                mark_unsupported(state, w.kind)
                state.updated_at = now
                self.cache.mark_dirty(w.key)
                return
            self.unsupported.pop(w.key, None)
            remember_kind(w.key, w.kind)
            self.cache.set_connected(w.key, True, w.server)
            self._server_connected(w.key, w.server)
        kind = w.kind
        if kind is None or kind.unsupported:
            return
        apply(state, value, kind, meta)
        state.update_count += 1
        self.cache.total_updates += 1
        self.total_updates += 1
        state.updated_at = now
        self.cache.mark_dirty(w.key)

    def _lost(self, w: _Watch, exc: BaseException) -> None:
        if w.connected:
            w.connected = False
            self.cache.set_connected(w.key, False)
            if w.kind is not None and not w.kind.unsupported:
                self._server_lost(w.server, tell_breakers=self.running)
        if type(exc).__name__ != "Disconnected":
            w.state.error = client.error_text(exc)
            self.cache.mark_dirty(w.key)

    # --- figures ---------------------------------------------------------------------------------
    def _updates_so_far(self) -> int:
        return self.total_updates

    def status(self) -> dict[str, Any]:
        """The PVA part of /v1/health/monitor."""
        return {
            "subscribed": self.subscribed,
            "connected": sum(1 for w in self._watches.values() if w.connected),
            "updates_per_s": round(self.updates_per_s, 1),
            "total_updates": self.total_updates,
            "callback_errors": self.errors,
            "unsupported": dict(sorted(self.unsupported.items())),
            "error": self.unavailable,
            # How the registry is followed: full reloads (start-up, lost notifications) vs ids applied alone.
            "resyncs": self.resyncs,
            "full_resyncs": self.full_resyncs,
            "incremental_applies": self.incremental_applies,
        }


def _take(w: _Watch) -> _Watch:
    return w  # its Values wait in the subscription's own queue: the loop pops them
