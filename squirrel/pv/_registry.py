"""How a monitor (CA's or PVA's) follows the registry: the mirror of its watched addresses, and the loop.

Registry notifications name changed PV ids; applying their current rows to the mirror tells the
monitor which addresses appeared (first user) and which went (last user gone) without reloading every
row. An address may serve several PVs (a shared readback), hence the reference counts. The
notifications themselves come from squirrel.db.registry_listen, wired to the monitors by the services;
each monitor's rows carry only its own protocol's addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any
from uuid import UUID

import structlog

log = structlog.get_logger(__name__)
Row = tuple[str, str | None, str | None]  # (pv id, setpoint address, readback address)
# Reads registry rows: all live PVs (None) or the named ids' current rows.
LoadRows = Callable[[list[str] | None], Awaitable[list[Row]]]
# Follows the registry for ever: (on_payload, on_connect, listening) -> runs until cancelled.
Listen = Callable[[Callable[[str], None], Callable[[], None], asyncio.Event | None], Coroutine[Any, Any, None]]

# Payloads on channel squirrel_registry (migration 0009 sends them; the app adds an empty one).
IDS_PREFIX = "ids:"
RESYNC = "resync"


def parse_payload(payload: str) -> list[str] | None:
    """The PV ids a notification names; None = reload the whole registry; [] = nothing to apply.

    An empty payload is the app's own "registry touched" hint, sent beside the row triggers' ids:
    the ids already say what changed (tag edits change no address)."""
    if payload.startswith(IDS_PREFIX):
        ids = [i for i in payload[len(IDS_PREFIX) :].split(",") if i]
        try:
            return [str(UUID(i)) for i in ids]
        except ValueError:
            return None  # not ours: reload rather than fail on a query
    if payload == "":
        return []
    return None  # "resync", or a payload this version does not know: the safe answer is a full reload


class RegistryMirror:
    def __init__(self) -> None:
        self._by_id: dict[str, tuple[str, ...]] = {}
        self._refs: dict[str, int] = {}

    def addresses(self) -> set[str]:
        return set(self._refs)

    def __len__(self) -> int:
        return len(self._by_id)

    def replace(self, rows: Iterable[Row]) -> set[str]:
        """A full resync: forget everything, take `rows`; returns the addresses now watched."""
        self._by_id.clear()
        self._refs.clear()
        for pv_id, sp, rb in rows:
            self._set(pv_id, _addresses(sp, rb))
        return set(self._refs)

    def apply(self, ids: Iterable[str], rows: Iterable[Row]) -> tuple[set[str], set[str]]:
        """The named PVs now have `rows` (a named id without a row is gone); returns (added, removed)."""
        current = {pv_id: _addresses(sp, rb) for pv_id, sp, rb in rows}
        added: set[str] = set()
        removed: set[str] = set()
        for pv_id in dict.fromkeys([*ids, *current]):
            for address in self._by_id.pop(pv_id, ()):
                left = self._refs[address] - 1
                if left:
                    self._refs[address] = left
                else:
                    del self._refs[address]
                    removed.add(address)
            new = current.get(pv_id)
            if new:
                for address in new:
                    if address not in self._refs:
                        added.add(address)
                self._set(pv_id, new)
        return added - removed, removed - added

    def _set(self, pv_id: str, addresses: tuple[str, ...]) -> None:
        if not addresses:
            return
        self._by_id[pv_id] = addresses
        for address in addresses:
            self._refs[address] = self._refs.get(address, 0) + 1


def _addresses(sp: str | None, rb: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a for a in (sp, rb) if a))


class RegistryFollower:
    """A monitor's registry follow: ids from notifications applied alone (their rows read, the address
    difference handed to `change(added, removed)`); "resync", a (re)connected listener and a periodic
    safety net reload every row (`sync(wanted)`: the monitor diffs against what it watches)."""

    def __init__(
        self,
        load: LoadRows,
        sync: Callable[[set[str]], Awaitable[None]],
        change: Callable[[set[str], set[str]], Awaitable[None]],
        resync_interval: float,
        what: str,
    ) -> None:
        self.mirror = RegistryMirror()
        self.resyncs = 0  # registry changes applied: full reloads + incremental applies
        self.full_resyncs = 0
        self.incremental_applies = 0
        self._load, self._sync, self._change = load, sync, change
        self._resync_interval = resync_interval
        self._what = what  # for the log: which monitor
        self._pending_ids: set[str] = set()
        self._full_wanted = True
        self._wake = asyncio.Event()

    def request_resync(self) -> None:
        """Reload the whole registry soon."""
        self._full_wanted = True
        self._wake.set()

    def notified(self, payload: str) -> None:
        """A registry notification: named ids are applied alone, anything unknown reloads everything."""
        ids = parse_payload(payload)
        if ids is None:
            self.request_resync()
        elif ids:
            self.changed(ids)

    def changed(self, pv_ids: Iterable[str]) -> None:
        """These PVs changed: apply their rows alone, soon."""
        self._pending_ids.update(pv_ids)
        self._wake.set()

    def start(self, listen: Listen | None) -> list[asyncio.Task[None]]:
        """The follow's tasks (the monitor cancels them): the listener, when there is one, and the loop."""
        tasks: list[asyncio.Task[None]] = []
        listening = None
        if listen is not None:
            listening = asyncio.Event()
            tasks.append(asyncio.create_task(listen(self.notified, self.request_resync, listening)))
        tasks.append(asyncio.create_task(self.run(listening)))
        return tasks

    async def run(self, listening: asyncio.Event | None) -> None:
        """Follow for ever; the first load waits for `listening` (LISTEN in place: no change falls between)."""
        if listening is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(listening.wait(), 5.0)
        while True:
            try:
                await self.follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("monitor registry sync failed; will retry", monitor=self._what, error=str(exc))
                await asyncio.sleep(1.0)
                continue
            if not self._full_wanted and not self._pending_ids:
                try:
                    await asyncio.wait_for(self._wake.wait(), self._resync_interval)
                except TimeoutError:
                    self._full_wanted = True  # the safety net: a notification may have been lost
            self._wake.clear()
            await asyncio.sleep(0.05)  # let a burst of registry changes settle into one apply

    async def follow(self) -> None:
        """One round: a full reload when asked for, else the pending ids' rows applied alone."""
        if self._full_wanted:
            self._full_wanted = False
            self._pending_ids.clear()  # the reload covers them
            try:
                rows = await self._load(None)
            except BaseException:
                self._full_wanted = True
                raise
            await self._sync(self.mirror.replace(rows))
            self.full_resyncs += 1
        elif self._pending_ids:
            ids, self._pending_ids = list(self._pending_ids), set()
            try:
                rows = await self._load(ids)
            except BaseException:
                self._pending_ids.update(ids)
                raise
            await self._change(*self.mirror.apply(ids, rows))
            self.incremental_applies += 1
        else:
            return
        self.resyncs += 1
