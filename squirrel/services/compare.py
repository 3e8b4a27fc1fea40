"""Compare snapshot ↔ snapshot and snapshot ↔ live: an O(N) join by PV id, per-PV tolerances.

Rule (API.md): a pair matches when |v1 − v2| ≤ abs or |v1 − v2| ≤ rel × |v1| (v1 = first/stored);
with both tolerances 0 only equality matches; NaN matches NaN; arrays element-wise with equal length;
strings and enums exactly (enums by index when both sides have one). Setpoint and readback must match.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal
from uuid import UUID

import msgspec

from squirrel.db import compare as compare_db
from squirrel.db import snapshots as snap_db
from squirrel.db.pool import connection
from squirrel.db.rows import Conn
from squirrel.errors import NotFoundError, ValidationError
from squirrel.model import CompareDifferenceDTO, CompareResultDTO
from squirrel.pv import PVState, ValueOnly, decode_value_only, to_wire
from squirrel.services.context import ServiceContext

Tolerance = tuple[float, float]
Side = Literal["setpoint", "readback"]
SIDES: tuple[Side, ...] = ("setpoint", "readback")
_SIDE_ORDER = {"setpoint": 0, "readback": 1}
Key = UUID | bytes  # a PV id, or its 16 raw bytes (the fast path: no UUID objects per row)
_ZERO: Tolerance = (0.0, 0.0)


class Entry(msgspec.Struct, array_like=True, gc=False):
    """One PV on one side of a comparison; a side is None when that address was not stored."""

    name: str
    setpoint: ValueOnly | None
    readback: ValueOnly | None
    setpoint_address: str | None = None
    readback_address: str | None = None

    def address(self, side: Side) -> str | None:
        return self.setpoint_address if side == "setpoint" else self.readback_address


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def values_equal(v1: Any, v2: Any, abs_tol: float, rel_tol: float) -> bool:
    if _number(v1) and _number(v2):
        if v1 == v2:
            return True
        nan1, nan2 = v1 != v1, v2 != v2
        if nan1 or nan2:
            return bool(nan1 and nan2)
        diff = abs(v1 - v2)
        if math.isinf(diff):
            return False
        return bool(diff <= abs_tol or diff <= rel_tol * abs(v1))
    if isinstance(v1, list) and isinstance(v2, list):
        return len(v1) == len(v2) and all(values_equal(a, b, abs_tol, rel_tol) for a, b in zip(v1, v2, strict=True))
    return bool(v1 == v2)


def sides_equal(a: ValueOnly | None, b: ValueOnly | None, tol: Tolerance) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if a.enum_index is not None and b.enum_index is not None:
        return a.enum_index == b.enum_index
    return values_equal(a.value, b.value, tol[0], tol[1])


def delta(a: ValueOnly | None, b: ValueOnly | None) -> int | float | None:
    """value2 − value1 for two numeric scalars (not enums); None otherwise or when not finite."""
    if a is None or b is None or a.enum_index is not None or b.enum_index is not None:
        return None
    if not (_number(a.value) and _number(b.value)):
        return None
    d: int | float = b.value - a.value
    return d if math.isfinite(d) else None


def _shown(side: ValueOnly | None) -> Any:
    return None if side is None else to_wire(side.value)


def compare(
    first: Mapping[Key, Entry],
    second: Mapping[Key, Entry],
    tolerances: Mapping[Key, Tolerance],
    override: tuple[float | None, float | None] = (None, None),
    *,
    live: bool = False,
) -> tuple[list[CompareDifferenceDTO], int]:
    """(differences ordered by PV name then side, count of PVs matching on both sides).

    Each side that differs is its own difference, so a setpoint change is never hidden behind (or
    labelled as) readback noise. With `live`, a live side without value is `disconnected`, and a
    readback is compared only when the first side stored one."""
    differences: list[CompareDifferenceDTO] = []
    matches = 0
    abs_o, rel_o = override
    for pv_id, a in first.items():
        b = second.get(pv_id)
        if b is None:
            differences.append(_missing(pv_id, a, first_side=True))
            continue
        tol = tolerances.get(pv_id, _ZERO)
        if abs_o is not None or rel_o is not None:
            tol = (tol[0] if abs_o is None else abs_o, tol[1] if rel_o is None else rel_o)
        found = [d for side in SIDES if (d := _side_difference(pv_id, a, b, side, tol, live)) is not None]
        if found:
            differences.extend(found)
        else:
            matches += 1
    for pv_id, b in second.items():
        if pv_id not in first:
            differences.append(_missing(pv_id, b, first_side=False))
    differences.sort(key=lambda d: (d.pv_name, _SIDE_ORDER[d.side], str(d.pv_id)))
    return differences, matches


def _side_difference(
    key: Key, a: Entry, b: Entry, side: Side, tol: Tolerance, live: bool
) -> CompareDifferenceDTO | None:
    va: ValueOnly | None = getattr(a, side)
    vb: ValueOnly | None = getattr(b, side)
    if live and side == "readback" and va is None:
        return None  # the snapshot stored no readback: nothing to hold the live one against
    if live and va is not None and (vb is None or not vb.connected):
        reason = "disconnected"
    elif sides_equal(va, vb, tol):
        return None
    else:
        reason = side
    return CompareDifferenceDTO(
        pv_id=_uuid(key),
        pv_name=a.name,
        side=side,
        address=a.address(side) or b.address(side) or a.name,
        value1=_shown(va),
        value2=_shown(vb),
        delta=delta(va, vb),
        reason=reason,
    )


def _missing(key: Key, entry: Entry, *, first_side: bool) -> CompareDifferenceDTO:
    """A PV only one snapshot holds: one difference, on the side it has (setpoint unless only a readback)."""
    side: Side = "setpoint" if entry.setpoint is not None or entry.readback is None else "readback"
    shown = _shown(getattr(entry, side))
    return CompareDifferenceDTO(
        pv_id=_uuid(key),
        pv_name=entry.name,
        side=side,
        address=entry.address(side) or entry.name,
        value1=shown if first_side else None,
        value2=None if first_side else shown,
        delta=None,
        reason="missing",
    )


def _uuid(key: Key) -> UUID:
    return UUID(bytes=key) if isinstance(key, bytes) else key


def page(
    differences: list[CompareDifferenceDTO], side: Side | None, limit: int | None, offset: int
) -> tuple[list[CompareDifferenceDTO], int]:
    """(the page of differences on `side` (all sides when None), how many there are on that side)."""
    selected = differences if side is None else [d for d in differences if d.side == side]
    end = None if limit is None else offset + limit
    return selected[offset:end], len(selected)


# --- service ---------------------------------------------------------------------------------


class CompareQuery(msgspec.Struct, kw_only=True):
    """What a compare request asks beside the two sides: tolerance overrides, side filter, paging."""

    abs_tolerance: float | None = None
    rel_tolerance: float | None = None
    side: Side | None = None
    limit: int | None = None  # None: every difference
    offset: int = 0


def _check_tolerance(name: str, value: float | None) -> None:
    if value is not None and not (value >= 0 and math.isfinite(value)):
        raise ValidationError(f"{name} must be a finite number >= 0, got {value}")


def _check(query: CompareQuery) -> None:
    _check_tolerance("absTolerance", query.abs_tolerance)
    _check_tolerance("relTolerance", query.rel_tolerance)


async def _pv_counts(conn: Conn, ids: list[UUID]) -> dict[UUID, int]:
    counts = await snap_db.pv_counts(conn, ids)
    for snapshot_id in ids:
        if snapshot_id not in counts:
            raise NotFoundError(f"snapshot {snapshot_id} not found")
    return counts


def _result(
    first: UUID, second: str, differences: list[CompareDifferenceDTO], matches: int, query: CompareQuery
) -> CompareResultDTO:
    shown, matched = page(differences, query.side, query.limit, query.offset)
    return CompareResultDTO(
        snapshot1_id=first,
        snapshot2_id=second,
        differences=shown,
        match_count=matches,
        difference_count=len(differences),
        matched_count=matched,
    )


def _stored(sp_name: str | None, rb_name: str | None, sp: bytes | None, rb: bytes | None) -> Entry:
    """A stored row's entry from its addresses and value-only sides (None: that side was not stored)."""
    return Entry(
        sp_name or rb_name or "",
        decode_value_only(sp) if sp is not None else None,
        decode_value_only(rb) if rb is not None else None,
        sp_name,
        rb_name,
    )


async def compare_snapshots(ctx: ServiceContext, first: UUID, second: UUID, query: CompareQuery) -> CompareResultDTO:
    """Only rows whose value-only bytes differ (or that one side lacks) come from PostgreSQL; the rest
    are matches. Those rows then go through `compare`, so the rule is the same as everywhere."""
    _check(query)
    async with connection(ctx.pool) as conn:
        counts = await _pv_counts(conn, [first, second])
        rows = await compare_db.differing_rows(conn, first, second, (counts[first], counts[second]))
    a: dict[Key, Entry] = {}
    b: dict[Key, Entry] = {}
    tol: dict[Key, Tolerance] = {}
    for key, sp_n1, rb_n1, sp_n2, rb_n2, sp1, rb1, sp2, rb2, in1, in2, abs_t, rel_t in rows:
        if in1:
            a[key] = _stored(sp_n1, rb_n1, sp1, rb1)
        if in2:
            b[key] = _stored(sp_n2, rb_n2, sp2, rb2)
        if abs_t or rel_t:
            tol[key] = (abs_t, rel_t)
    differences, matches = compare(a, b, tol, (query.abs_tolerance, query.rel_tolerance))
    equal_bytes = counts[first] - len(a)  # rows of the first snapshot the query left out: matches
    return _result(first, str(second), differences, matches + equal_bytes, query)


def _live_side(state: PVState | None) -> ValueOnly | None:
    if state is None:
        return None
    if not state.has_value:
        return ValueOnly(None, None, False)
    return ValueOnly(state.value, state.enum_index, state.connected)


async def compare_live(ctx: ServiceContext, snapshot_id: UUID, query: CompareQuery) -> CompareResultDTO:
    """Stored values against the live cache (the addresses stored in the snapshot)."""
    _check(query)
    async with connection(ctx.pool) as conn:
        await _pv_counts(conn, [snapshot_id])
        rows = await snap_db.value_sides(conn, snapshot_id)
        registry = await snap_db.snapshot_tolerances(conn, snapshot_id)
    get = ctx.cache.get
    stored: dict[Key, Entry] = {}
    live: dict[Key, Entry] = {}
    # Addresses come from the stored rows, not the registry: history is what the snapshot saw.
    for key, sp_name, rb_name, sp, rb in rows:
        stored[key] = _stored(sp_name, rb_name, sp, rb)
        live[key] = Entry(
            sp_name or rb_name or "",
            _live_side(get(sp_name)) if sp_name else None,
            _live_side(get(rb_name)) if rb_name else None,
            sp_name,
            rb_name,
        )
    tol: dict[Key, Tolerance] = dict[Key, Tolerance](registry.items())
    differences, matches = compare(stored, live, tol, (query.abs_tolerance, query.rel_tolerance), live=True)
    return _result(snapshot_id, "live", differences, matches, query)
