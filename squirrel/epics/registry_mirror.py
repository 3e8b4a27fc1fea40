"""What the monitor knows of the registry: each live PV's watched addresses, and how many PVs use each.

Registry notifications name changed PV ids; applying their current rows here tells the monitor which
addresses appeared (first user) and which went (last user gone) without reloading every row. An
address may serve several PVs (a shared readback), hence the reference counts. The notifications
themselves come from squirrel.db.registry_listen, wired to the monitor by the services.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

Row = tuple[str, str | None, str | None]  # (pv id, setpoint address, readback address)

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
