"""Reading stored snapshot values: the GET body (encoded in chunks with msgspec) and decoded rows.

`stored_values` is what restore, compare and export build on: one StoredPV per PV, in name order.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from squirrel.db import snapshots as snap_db
from squirrel.db.pool import connection
from squirrel.errors import NotFoundError
from squirrel.model import EpicsValueDTO, PVValueDTO, SnapshotHeaderDTO, TagRef
from squirrel.pv import StoredSide, decode_side, epics_value, to_wire
from squirrel.services.context import ServiceContext
from squirrel.services.snapshots.codec import ns_to_datetime
from squirrel.services.snapshots.take import get_summary, stored_header, summary

_CHUNK = 5000
_encode = msgspec.json.Encoder().encode


# rename="camel" is for the export (msgspec names a field where it is declared); gc=False because a
# snapshot read builds 50K of these and they hold no cycles.
class PVNames(msgspec.Struct, rename="camel", kw_only=True, gc=False):
    """Which PV, and the addresses used when the snapshot was taken. Each form of a stored PV adds its
    two sides (`StoredPV` decoded from storage, `io.ExportValue` in the export file): declared there, not
    as a generic parameter, because the OpenAPI generator does not resolve one in a subclass."""

    pv_id: UUID
    setpoint_name: str | None = None
    readback_name: str | None = None

    @property
    def pv_name(self) -> str:
        return self.setpoint_name or self.readback_name or ""


class StoredPV(PVNames, gc=False):
    """One stored PV, both sides decoded."""

    setpoint: StoredSide | None = None
    readback: StoredSide | None = None


async def _load(ctx: ServiceContext, snapshot_id: UUID) -> tuple[dict[str, Any], list[snap_db.ValueRow]]:
    async with connection(ctx.pool) as conn:
        header = await snap_db.get(conn, snapshot_id)
        if header is None:
            raise NotFoundError(f"snapshot {snapshot_id} not found")
        rows = await snap_db.values(conn, snapshot_id, 0, 2**31 - 1)
    return header, rows


header = get_summary  # the stored header with its missing counts (404 if unknown); one lookup serves both


async def stored_values(ctx: ServiceContext, snapshot_id: UUID) -> tuple[SnapshotHeaderDTO, list[StoredPV]]:
    """The snapshot's header and every stored PV, decoded, in PV-name order (404 if unknown). The
    missing counts are not part of the header: they follow from the values."""
    head, rows = await _load(ctx, snapshot_id)
    values = [
        StoredPV(
            pv_id=pv_id,
            setpoint_name=sp_name,
            readback_name=rb_name,
            setpoint=decode_side(sp) if sp is not None else None,
            readback=decode_side(rb) if rb is not None else None,
        )
        for pv_id, sp_name, rb_name, sp, rb in rows
    ]
    return stored_header(head), values


class WireValue(PVValueDTO, gc=False):
    """model.PVValueDTO (same fields, same JSON), with the PV id as text straight from PostgreSQL."""

    pv_id: str  # type: ignore[assignment]


Tolerances = dict[str, tuple[float, float]]  # PV id (text) -> non-zero (abs, rel), as compare applies them
_EXACT = (0.0, 0.0)
_INF = (math.inf, -math.inf)


def _wire_values(rows: list[snap_db.TextRow], tags: dict[str, list[TagRef]], tolerances: Tolerances) -> list[WireValue]:
    no_tags: list[TagRef] = []
    # Records scanned together share timestamps: convert each distinct one once.
    times: dict[int | None, datetime | None] = {None: None}
    out: list[WireValue] = []
    append = out.append
    for pv_id, sp_name, rb_name, sp_raw, rb_raw in rows:
        sides: list[EpicsValueDTO | None] = []
        for raw in (sp_raw, rb_raw):
            if raw is None:
                sides.append(None)
                continue
            s = decode_side(raw)
            ns = s.timestamp_ns
            ts = times.get(ns)
            if ts is None and ns is not None:
                ts = times[ns] = ns_to_datetime(ns)
            v = s.value
            if (v.__class__ is float and (v != v or v in _INF)) or v.__class__ is list:
                v = to_wire(v)
            sides.append(epics_value(s, v, ts))
        sp, rb = sides
        main = sp or rb
        abs_t, rel_t = tolerances.get(pv_id, _EXACT) if tolerances else _EXACT
        append(
            WireValue(
                pv_id,
                sp_name or rb_name or "",
                sp_name,
                rb_name,
                sp,
                rb,
                main.status if main is not None else "UDF",
                main.severity if main is not None else 3,
                main.timestamp if main is not None else None,
                tags.get(pv_id, no_tags) if tags else no_tags,
                abs_t,
                rel_t,
            )
        )
    return out


async def snapshot_body(ctx: ServiceContext, snapshot_id: UUID, limit: int | None, offset: int) -> AsyncIterator[bytes]:
    """The GET /v1/snapshots/{id} JSON body as chunks: header, then values encoded 5,000 at a time
    (404 raised here, before the response starts)."""
    stop = 2**31 - 1 if limit is None else offset + limit
    async with connection(ctx.pool) as conn:
        head = await snap_db.get(conn, snapshot_id)
        if head is None:
            raise NotFoundError(f"snapshot {snapshot_id} not found")
        rows = await snap_db.values_text(conn, snapshot_id, offset, stop)
        tag_rows = await snap_db.value_tags(conn, snapshot_id, offset, stop)
        tolerances = text_tolerances(await snap_db.snapshot_tolerances(conn, snapshot_id), rows) if rows else {}
    return _chunks(with_matched(_encode(summary(head)), head["pv_count"]), rows, _tag_refs(tag_rows), tolerances)


def text_tolerances(by_key: dict[bytes, tuple[float, float]], rows: list[snap_db.TextRow]) -> Tolerances:
    """The tolerances of `rows` (snap_db.snapshot_tolerances, keyed by raw id) by the text ids the rows
    carry: the GET shows the very tolerances the compare rule applies, so the console marks exactly what
    `differentFromLive` selects. Whichever side is smaller is converted (a page of a big snapshot)."""
    if len(by_key) <= len(rows):
        return {str(UUID(bytes=k)): v for k, v in by_key.items()}
    return {r[0]: t for r in rows if (t := by_key.get(UUID(r[0]).bytes)) is not None}


def with_matched(head_json: bytes, matched: int) -> bytes:
    """The summary JSON object with `matchedCount` (the rows the filters selected) added at its end."""
    return head_json[:-1] + b',"matchedCount":' + str(matched).encode() + b"}"


def _tag_refs(tag_rows: list[tuple[Any, ...]]) -> dict[str, list[TagRef]]:
    tags: dict[str, list[TagRef]] = {}
    refs: dict[UUID, TagRef] = {}
    for pv_id, tag_id, name, description, group_id, group_name in tag_rows:
        ref = refs.get(tag_id)
        if ref is None:
            ref = refs[tag_id] = TagRef(
                id=tag_id, name=name, description=description, group_id=group_id, group_name=group_name
            )
        tags.setdefault(pv_id, []).append(ref)
    return tags


async def _chunks(
    head_json: bytes, rows: list[snap_db.TextRow], tags: dict[str, list[TagRef]], tolerances: Tolerances
) -> AsyncIterator[bytes]:
    # In the event loop (no thread hops); each chunk yields, so other requests interleave.
    yield head_json[:-1] + b',"pvValues":['
    for start in range(0, len(rows), _CHUNK):
        encoded = _encode(_wire_values(rows[start : start + _CHUNK], tags, tolerances))[1:-1]
        yield encoded if start == 0 else b"," + encoded
    yield b"]}"
