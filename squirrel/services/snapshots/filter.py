"""GET /v1/snapshots/{id} with filters: the rows selected server-side, counted, then paged.

q, devices and tags select in PostgreSQL; onlyMissing and differentFromLive need the decoded sides and
the live cache, so they run here on what the query returned (the same compare rule as compare/live).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NamedTuple
from uuid import UUID

from squirrel.db import snapshots as snap_db
from squirrel.db.pool import connection
from squirrel.db.queries import q as query
from squirrel.db.rows import Conn
from squirrel.errors import NotFoundError
from squirrel.pv import StoredSide, ValueOnly, decode_side
from squirrel.services import compare as compare_service
from squirrel.services.context import ServiceContext
from squirrel.services.snapshots.read import _chunks, _encode, _tag_refs, text_tolerances, with_matched
from squirrel.services.snapshots.take import summary


class SnapshotFilter(NamedTuple):
    q: str | None = None
    devices: list[str] | None = None
    tags: list[UUID] | None = None
    only_missing: bool = False
    different_from_live: bool = False

    @property
    def active(self) -> bool:
        return bool(self.q or self.devices or self.tags or self.only_missing or self.different_from_live)


def _missing(name: str | None, raw: bytes | None) -> bool:
    """A stored address saved without a value (disconnected or no value received)."""
    if name is None:
        return False
    return raw is None or not decode_side(raw).has_value


def _value_only(raw: bytes | None) -> ValueOnly | None:
    if raw is None:
        return None
    side: StoredSide = decode_side(raw)
    return ValueOnly(side.value, side.enum_index) if side.has_value else ValueOnly(None, None)


def _different_from_live(
    ctx: ServiceContext, rows: list[snap_db.TextRow], tolerances: dict[bytes, tuple[float, float]]
) -> set[str]:
    """PV ids (text) of rows outside tolerance of their live value (or whose channel is not live)."""
    get = ctx.cache.get
    stored: dict[compare_service.Key, compare_service.Entry] = {}
    live: dict[compare_service.Key, compare_service.Entry] = {}
    for pv_id, sp_name, rb_name, sp, rb in rows:
        key = UUID(pv_id)
        name = sp_name or rb_name or ""
        stored[key] = compare_service.Entry(name, _value_only(sp), _value_only(rb))
        live[key] = compare_service.Entry(
            name,
            compare_service._live_side(get(sp_name)) if sp_name else None,
            compare_service._live_side(get(rb_name)) if rb_name else None,
        )
    tol: dict[compare_service.Key, compare_service.Tolerance] = {UUID(bytes=k): v for k, v in tolerances.items()}
    differences, _ = compare_service.compare(stored, live, tol, live=True)
    return {str(d.pv_id) for d in differences}


async def filtered_body(
    ctx: ServiceContext, snapshot_id: UUID, limit: int | None, offset: int, f: SnapshotFilter
) -> AsyncIterator[bytes]:
    """The JSON body of the filtered rows (matchedCount = all of them; pvValues = the page)."""
    async with connection(ctx.pool) as conn:
        head = await snap_db.get(conn, snapshot_id)
        if head is None:
            raise NotFoundError(f"snapshot {snapshot_id} not found")
        # Filters PostgreSQL cannot apply need every selected row here; otherwise it pages and counts.
        in_python = f.only_missing or f.different_from_live
        params = {
            "id": snapshot_id,
            "q": f.q or None,
            "devices": f.devices or None,
            "tags": f.tags or None,
            "limit": None if in_python else limit,
            "offset": 0 if in_python else offset,
        }
        cur = await conn.cursor(binary=True).execute(query("snapshot_values_filtered"), params)
        fetched: list[tuple[Any, ...]] = await cur.fetchall()  # type: ignore[assignment]
        rows: list[snap_db.TextRow] = [(r[0], r[1], r[2], r[3], r[4]) for r in fetched]
        tolerances: dict[bytes, tuple[float, float]] | None = None  # fetched once: the filter's are the rows'
        if not in_python:
            matched = int(fetched[0][5]) if fetched else await _count(conn, snapshot_id, f)
            page = rows
        else:
            if f.only_missing:
                rows = [r for r in rows if _missing(r[1], r[3]) or _missing(r[2], r[4])]
            if f.different_from_live and rows:
                tolerances = await snap_db.snapshot_tolerances(conn, snapshot_id)
                outside = _different_from_live(ctx, rows, tolerances)
                rows = [r for r in rows if r[0] in outside]
            matched = len(rows)
            page = rows[offset:] if limit is None else rows[offset : offset + limit]
        tag_rows: list[tuple[Any, ...]] = []
        if page:
            tcur = await conn.execute(query("snapshot_value_tags_of"), {"pv_ids": [r[0] for r in page]})
            tag_rows = await tcur.fetchall()  # type: ignore[assignment]
            if tolerances is None:
                tolerances = await snap_db.snapshot_tolerances(conn, snapshot_id)
    return _chunks(
        with_matched(_encode(summary(head)), matched),
        page,
        _tag_refs(tag_rows),
        text_tolerances(tolerances or {}, page),
    )


async def _count(conn: Conn, snapshot_id: UUID, f: SnapshotFilter) -> int:
    """The matched count when the requested page is past the end (no row carried it)."""
    params = {"id": snapshot_id, "q": f.q or None, "devices": f.devices or None, "tags": f.tags or None}
    cur = await conn.execute(query("snapshot_values_filtered_count"), params)
    row = await cur.fetchone()
    return int(row[0]) if row else 0
