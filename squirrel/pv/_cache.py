"""The PV cache: one PVState per address, plain in-memory data with no I/O.

Writers (the monitor) update entries in place and mark them dirty; readers (snapshots from cache,
live REST, SSE, compare-with-live, restore skip-equal, health) read entries. The broadcaster drains
the dirty set in batches, so per-update cost stays a dict lookup and a set add.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from squirrel.addresses import PROTOCOLS, Protocol, protocol_of
from squirrel.pv._records import PVState


class PVCache:
    """Every monitored address's state, and the set of addresses changed since the last drain."""

    def __init__(self) -> None:
        self._entries: dict[str, PVState] = {}
        self._dirty: set[str] = set()
        self.total_updates = 0
        # Kept as entries come, go and (dis)connect, so counts() costs the same at 200K PVs as at 2K:
        # /metrics and health read them often, and a walk of the cache per read grows with the registry.
        self._total = dict.fromkeys(PROTOCOLS, 0)
        self._connected = dict.fromkeys(PROTOCOLS, 0)

    # --- membership -------------------------------------------------------------------------
    def ensure(self, address: str) -> PVState:
        state = self._entries.get(address)
        if state is None:
            state = self._entries[address] = PVState(address=address)
            self._count(state, 1)
        return state

    def discard(self, address: str) -> None:
        state = self._entries.pop(address, None)
        if state is not None:
            self._count(state, -1)
        self._dirty.discard(address)

    def replace(self, state: PVState) -> None:
        """Install a whole entry received from elsewhere (the Redis bridge on an API-only instance)."""
        old = self._entries.get(state.address)
        if old is not None:
            self._count(old, -1)
        self._entries[state.address] = state
        self._count(state, 1)
        self._dirty.add(state.address)

    def _count(self, state: PVState, sign: int) -> None:
        protocol = protocol_of(state.address)
        self._total[protocol] += sign
        if state.connected:
            self._connected[protocol] += sign

    def __contains__(self, address: object) -> bool:
        return address in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[PVState]:
        return iter(list(self._entries.values()))

    def addresses(self) -> list[str]:
        return list(self._entries)

    def get(self, address: str) -> PVState | None:
        return self._entries.get(address)

    def many(self, addresses: Iterable[str]) -> dict[str, PVState | None]:
        entries = self._entries
        return {a: entries.get(a) for a in addresses}

    # --- writers (monitor) ------------------------------------------------------------------
    def mark_dirty(self, address: str) -> None:
        self._dirty.add(address)

    def set_connected(self, address: str, connected: bool, server: str | None = None) -> None:
        state = self._entries.get(address)
        if state is None:
            return
        now = time.time()
        if state.connected != connected:
            self._connected[protocol_of(address)] += 1 if connected else -1
        state.connected = connected
        state.updated_at = now
        if connected:
            state.connected_at = now
            state.server = server or state.server
            state.error = None
        else:
            state.has_value = False
            state.error = "disconnected"
        self._dirty.add(address)

    # --- readers ----------------------------------------------------------------------------
    def drain_dirty(self) -> set[str]:
        dirty, self._dirty = self._dirty, set()
        return dirty

    def counts(self) -> dict[str, int]:
        connected = sum(self._connected.values())
        return {"total": len(self._entries), "connected": connected, "disconnected": len(self._entries) - connected}

    def protocol_counts(self) -> dict[Protocol, tuple[int, int]]:
        """(connected, disconnected) addresses per protocol."""
        return {p: (self._connected[p], self._total[p] - self._connected[p]) for p in PROTOCOLS}
