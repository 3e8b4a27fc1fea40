"""Snapshot sides into binary-COPY fields, and the missing/stale tallies of what was stored.

The stored form itself (fields, structs, encoders) is squirrel.pv's codec; this module writes it into
the database's COPY buffer. Each side is stored twice: in full, and value-only for compare.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import msgspec

from squirrel import pv
from squirrel.db import snapshots as snap_db
from squirrel.pv import Encoded, PVState, StoredSide, decode_side


def sides_writer(
    lookup: Callable[[str], PVState | None], now: float | None, absent: Encoded
) -> Callable[[bytearray, snap_db.PVRow], None]:
    """Appends both sides of a selected PV as four binary-COPY fields (setpoint full, value-only, readback
    full, value-only), encoded straight into the buffer: the hot loop of a 50K-PV snapshot, one call per
    PV. `now` (epoch s) records the value's age (cache reads)."""
    into = pv.encode_into
    row_of = pv.state_row
    vi, ei = pv.VALUE_ONLY_AT
    pack_into = snap_db.LEN.pack_into
    pack = snap_db.LEN.pack
    null = snap_db.NULL
    nulls = null + null
    absent_fields = pack(len(absent[0])) + absent[0] + pack(len(absent[1])) + absent[1]

    def write(buf: bytearray, row: snap_db.PVRow) -> None:
        for address in (row[1], row[2]):
            if address is None:
                buf += nulls
                continue
            s = lookup(address)
            if s is None:
                buf += absent_fields
                continue
            full = row_of(s, now)
            start = len(buf)
            buf += null  # length prefix, patched once the field is written
            into(full, buf, start + 4)
            middle = len(buf)
            pack_into(buf, start, middle - start - 4)
            buf += null
            into((full[vi], full[ei]), buf, middle + 4)
            pack_into(buf, middle, len(buf) - middle - 4)

    return write


class MissingTally(msgspec.Struct):
    """Per PV: `disconnected` when a side had no connection at capture, else `no_value` when a side was
    connected but no value came; `stale` counts PVs with a value older than the stale limit."""

    disconnected: int = 0
    no_value: int = 0
    stale: int = 0

    @property
    def missing(self) -> int:
        return self.disconnected + self.no_value

    def add(self, gap: int, stale: bool) -> None:
        if gap == DISCONNECTED:
            self.disconnected += 1
        elif gap == NO_VALUE:
            self.no_value += 1
        elif stale:
            self.stale += 1


OK, NO_VALUE, DISCONNECTED = 0, 1, 2  # a side's gap, worst wins per PV


def state_gap(s: PVState | None) -> int:
    if s is None or not s.connected:
        return DISCONNECTED
    return OK if s.has_value else NO_VALUE


def tally_states(
    pvs: Iterable[snap_db.PVRow], lookup: Callable[[str], PVState | None], now: float | None, stale_max_age: float
) -> MissingTally:
    """What `sides_writer` will store, counted: a cache read (`now` set) also counts values older than
    `stale_max_age` (> 0) as stale."""
    tally = MissingTally()
    stale_before = now - stale_max_age if now is not None and stale_max_age > 0 else None
    for row in pvs:
        gap, stale = OK, False
        for address in (row[1], row[2]):
            if address is None:
                continue
            s = lookup(address)
            side = state_gap(s)
            gap = max(gap, side)
            if side == OK and stale_before is not None and s is not None:
                stale = stale or (s.updated_at is not None and s.updated_at < stale_before)
        tally.add(gap, stale)
    return tally


def tally_stored(rows: Iterable[snap_db.StoreRow]) -> MissingTally:
    """The same count for rows already encoded (imports): connected and has-value as they were stored."""
    tally = MissingTally()
    for row in rows:
        gap = OK
        for full in (row[3], row[4]):
            if full is None:
                continue
            side = decode_side(full)
            gap = max(gap, DISCONNECTED if not side.connected else (OK if side.has_value else NO_VALUE))
        tally.add(gap, False)
    return tally


def missing_reasons(t: MissingTally) -> str:
    """ "700 disconnected, 40 no value" (the non-zero ones)."""
    return ", ".join(f"{n:,} {name}" for n, name in ((t.disconnected, "disconnected"), (t.no_value, "no value")) if n)


def missing_text(t: MissingTally) -> str:
    """ "740 without a value: 700 disconnected, 40 no value" ("" when none), then stale if any."""
    parts = []
    if t.missing:
        parts.append(f"{t.missing:,} without a value: {missing_reasons(t)}")
    if t.stale:
        parts.append(f"{t.stale:,} stale")
    return "; ".join(parts)


def missing_warnings(t: MissingTally, count: int, stale_max_age: float) -> list[str]:
    """The job's warnings for a snapshot that does not hold a current value of every PV ([] when clean)."""
    out = []
    if t.missing:
        out.append(f"{t.missing:,} of {count:,} PVs saved without a value: {missing_reasons(t)}")
    if t.stale:
        out.append(f"{t.stale:,} of {count:,} PVs saved with a value older than {stale_max_age:g} s (stale)")
    return out


def missing_state(reason: str) -> Encoded:
    """A side whose address is not in the cache (e.g. the monitor does not run here): no value."""
    return pv.encode_side(StoredSide(None, None, status=reason, has_value=False))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ns_to_datetime(ns: int | None) -> datetime | None:
    """EPICS ns → UTC datetime, truncated to µs (half the cost of fromtimestamp on the 50K read path)."""
    if ns is None:
        return None
    return _EPOCH + timedelta(microseconds=ns // 1000)
