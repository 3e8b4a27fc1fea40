"""Compare snapshot ↔ snapshot and snapshot ↔ live: an O(N) join by PV id, per-PV tolerances.

Rule (API.md): a pair matches when |v1 − v2| ≤ abs or |v1 − v2| ≤ rel × |v1| (v1 = first/stored);
with both tolerances 0 only equality matches; NaN matches NaN; arrays element-wise with equal length;
strings and enums exactly (enums by index when both sides have one). Setpoint and readback must match.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from uuid import UUID

import msgspec
from psycopg import AsyncConnection

from squirrel.db import snapshots as snap_db
from squirrel.db.pool import connection
from squirrel.epics.cache import PVState
from squirrel.epics.values import to_wire
from squirrel.errors import NotFoundError, ValidationError
from squirrel.model import CompareDifferenceDTO, CompareResultDTO
from squirrel.services.context import ServiceContext
from squirrel.services.snapshot_codec import ValueOnly, decode_value_only

Tolerance = tuple[float, float]
Key = UUID | bytes  # a PV id, or its 16 raw bytes (the fast path: no UUID objects per row)
_ZERO: Tolerance = (0.0, 0.0)


class Entry(msgspec.Struct, array_like=True, gc=False):
    """One PV on one side of a comparison; a side is None when that address was not stored."""

    name: str
    setpoint: ValueOnly | None
    readback: ValueOnly | None


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
    """(differences ordered by PV name, match count). With `live`, a live side without value is
    `disconnected`, and a readback is compared only when the first side stored one."""
    differences: list[CompareDifferenceDTO] = []
    matches = 0
    abs_o, rel_o = override
    for pv_id, a in first.items():
        b = second.get(pv_id)
        if b is None:
            differences.append(_diff(pv_id, a.name, _shown(a.setpoint), None, "missing"))
            continue
        tol = tolerances.get(pv_id, _ZERO)
        if abs_o is not None or rel_o is not None:
            tol = (tol[0] if abs_o is None else abs_o, tol[1] if rel_o is None else rel_o)
        if live and (_dead(a.setpoint, b.setpoint) or _dead(a.readback, b.readback)):
            differences.append(_diff(pv_id, a.name, _shown(a.setpoint), _shown(b.setpoint), "disconnected"))
        elif not sides_equal(a.setpoint, b.setpoint, tol):
            differences.append(_diff(pv_id, a.name, _shown(a.setpoint), _shown(b.setpoint), "setpoint"))
        elif not (live and a.readback is None) and not sides_equal(a.readback, b.readback, tol):
            differences.append(_diff(pv_id, a.name, _shown(a.readback), _shown(b.readback), "readback"))
        else:
            matches += 1
    for pv_id, b in second.items():
        if pv_id not in first:
            differences.append(_diff(pv_id, b.name, None, _shown(b.setpoint), "missing"))
    differences.sort(key=lambda d: (d.pv_name, str(d.pv_id)))
    return differences, matches


def _dead(stored: ValueOnly | None, live: ValueOnly | None) -> bool:
    return stored is not None and (live is None or not live.connected)


def _diff(key: Key, name: str, v1: Any, v2: Any, reason: str) -> CompareDifferenceDTO:
    pv_id = UUID(bytes=key) if isinstance(key, bytes) else key
    return CompareDifferenceDTO(pv_id=pv_id, pv_name=name, value1=v1, value2=v2, reason=reason)


# --- service ---------------------------------------------------------------------------------


def _check_tolerance(name: str, value: float | None) -> None:
    if value is not None and not (value >= 0 and math.isfinite(value)):
        raise ValidationError(f"{name} must be a finite number >= 0, got {value}")


async def _pv_counts(conn: AsyncConnection[Any], ids: list[UUID]) -> dict[UUID, int]:
    counts = await snap_db.pv_counts(conn, ids)
    for snapshot_id in ids:
        if snapshot_id not in counts:
            raise NotFoundError(f"snapshot {snapshot_id} not found")
    return counts


async def compare_snapshots(
    ctx: ServiceContext, first: UUID, second: UUID, abs_tol: float | None, rel_tol: float | None
) -> CompareResultDTO:
    """Only rows whose value-only bytes differ (or that one side lacks) come from PostgreSQL; the rest
    are matches. Those rows then go through `compare`, so the rule is the same as everywhere."""
    _check_tolerance("absTolerance", abs_tol)
    _check_tolerance("relTolerance", rel_tol)
    async with connection(ctx.pool) as conn:
        counts = await _pv_counts(conn, [first, second])
        rows = await snap_db.compare_rows(conn, first, second)
    dec = decode_value_only
    a: dict[Key, Entry] = {}
    b: dict[Key, Entry] = {}
    tol: dict[Key, Tolerance] = {}
    for key, name1, name2, sp1, rb1, sp2, rb2, in1, in2, abs_t, rel_t in rows:
        if in1:
            a[key] = Entry(name1 or "", dec(sp1) if sp1 is not None else None, dec(rb1) if rb1 is not None else None)
        if in2:
            b[key] = Entry(name2 or "", dec(sp2) if sp2 is not None else None, dec(rb2) if rb2 is not None else None)
        if abs_t or rel_t:
            tol[key] = (abs_t, rel_t)
    differences, matches = compare(a, b, tol, (abs_tol, rel_tol))
    equal_bytes = counts[first] - len(a)  # rows of the first snapshot the query left out: matches
    return CompareResultDTO(
        snapshot1_id=first,
        snapshot2_id=str(second),
        differences=differences,
        match_count=matches + equal_bytes,
        difference_count=len(differences),
    )


def _live_side(state: PVState | None) -> ValueOnly | None:
    if state is None:
        return None
    if not state.has_value:
        return ValueOnly(None, None, False)
    return ValueOnly(state.value, state.enum_index, state.connected)


async def compare_live(
    ctx: ServiceContext, snapshot_id: UUID, abs_tol: float | None, rel_tol: float | None
) -> CompareResultDTO:
    """Stored values against the live cache (the addresses stored in the snapshot)."""
    _check_tolerance("absTolerance", abs_tol)
    _check_tolerance("relTolerance", rel_tol)
    async with connection(ctx.pool) as conn:
        await _pv_counts(conn, [snapshot_id])
        rows = await snap_db.value_sides(conn, snapshot_id)
        registry = await snap_db.snapshot_tolerances(conn, snapshot_id)
    dec = decode_value_only
    get = ctx.cache.get
    stored: dict[Key, Entry] = {}
    live: dict[Key, Entry] = {}
    # Addresses come from the stored rows, not the registry: history is what the snapshot saw.
    for key, sp_name, rb_name, sp, rb in rows:
        name = sp_name or rb_name or ""
        stored[key] = Entry(name, dec(sp) if sp is not None else None, dec(rb) if rb is not None else None)
        live[key] = Entry(
            name, _live_side(get(sp_name)) if sp_name else None, _live_side(get(rb_name)) if rb_name else None
        )
    tol: dict[Key, Tolerance] = dict[Key, Tolerance](registry.items())
    differences, matches = compare(stored, live, tol, (abs_tol, rel_tol), live=True)
    return CompareResultDTO(
        snapshot1_id=snapshot_id,
        snapshot2_id="live",
        differences=differences,
        match_count=matches,
        difference_count=len(differences),
    )
