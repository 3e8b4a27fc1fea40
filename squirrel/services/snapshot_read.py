"""Reading stored snapshot values: the GET body (encoded in chunks with msgspec) and decoded rows.

`stored_values` is what restore, compare and export build on: one StoredPV per PV, in name order.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from squirrel.db import snapshots as snap_db
from squirrel.db.pool import connection
from squirrel.errors import NotFoundError
from squirrel.model import PVValueDTO, SnapshotSummaryDTO, TagRef
from squirrel.services.context import ServiceContext
from squirrel.services.snapshot_codec import StoredSide, decode_side, ns_to_datetime, to_dto
from squirrel.services.snapshots import summary

_CHUNK = 5000
_encode = msgspec.json.Encoder().encode


class StoredPV(msgspec.Struct, kw_only=True):
    """One stored PV: the addresses used when the snapshot was taken and both decoded sides."""

    pv_id: UUID
    setpoint_name: str | None
    readback_name: str | None
    setpoint: StoredSide | None
    readback: StoredSide | None

    @property
    def pv_name(self) -> str:
        return self.setpoint_name or self.readback_name or ""


async def _load(
    ctx: ServiceContext, snapshot_id: UUID, start: int, stop: int, with_tags: bool
) -> tuple[dict[str, Any], list[snap_db.ValueRow], dict[UUID, list[TagRef]]]:
    async with connection(ctx.pool) as conn:
        header = await snap_db.get(conn, snapshot_id)
        if header is None:
            raise NotFoundError(f"snapshot {snapshot_id} not found")
        rows = await snap_db.values(conn, snapshot_id, start, stop)
        tag_rows = await snap_db.value_tags(conn, snapshot_id, start, stop) if with_tags else []
    tags: dict[UUID, list[TagRef]] = {}
    refs: dict[UUID, TagRef] = {}
    for pv_id, tag_id, name, description, group_id, group_name in tag_rows:
        ref = refs.get(tag_id)
        if ref is None:
            ref = refs[tag_id] = TagRef(
                id=tag_id, name=name, description=description, group_id=group_id, group_name=group_name
            )
        tags.setdefault(pv_id, []).append(ref)
    return header, rows, tags


async def header(ctx: ServiceContext, snapshot_id: UUID) -> SnapshotSummaryDTO:
    async with connection(ctx.pool) as conn:
        row = await snap_db.get(conn, snapshot_id)
    if row is None:
        raise NotFoundError(f"snapshot {snapshot_id} not found")
    return summary(row)


async def stored_values(ctx: ServiceContext, snapshot_id: UUID) -> tuple[SnapshotSummaryDTO, list[StoredPV]]:
    """The snapshot's header and every stored PV, decoded, in PV-name order (404 if unknown)."""
    head, rows, _ = await _load(ctx, snapshot_id, 0, 2**31 - 1, with_tags=False)
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
    return summary(head), values


def _value_dtos(rows: list[snap_db.ValueRow], tags: dict[UUID, list[TagRef]]) -> Iterator[PVValueDTO]:
    no_tags: list[TagRef] = []
    # Records scanned together share timestamps: convert each distinct one once.
    times: dict[int | None, datetime | None] = {None: None}
    for pv_id, sp_name, rb_name, sp_raw, rb_raw in rows:
        sp = decode_side(sp_raw) if sp_raw is not None else None
        rb = decode_side(rb_raw) if rb_raw is not None else None
        main = sp or rb
        for side in (sp, rb):
            if side is not None and side.timestamp_ns not in times:
                times[side.timestamp_ns] = ns_to_datetime(side.timestamp_ns)
        yield PVValueDTO(
            pv_id=pv_id,
            pv_name=sp_name or rb_name or "",
            setpoint_name=sp_name,
            readback_name=rb_name,
            setpoint_value=to_dto(sp, times[sp.timestamp_ns]) if sp is not None else None,
            readback_value=to_dto(rb, times[rb.timestamp_ns]) if rb is not None else None,
            status=main.status if main is not None else "UDF",
            severity=main.severity if main is not None else 3,
            timestamp=times[main.timestamp_ns] if main is not None else None,
            tags=tags.get(pv_id, no_tags) if tags else no_tags,
        )


async def snapshot_body(ctx: ServiceContext, snapshot_id: UUID, limit: int | None, offset: int) -> Iterator[bytes]:
    """The GET /v1/snapshots/{id} JSON body as chunks: header, then values encoded 5,000 at a time."""
    stop = 2**31 - 1 if limit is None else offset + limit
    head, rows, tags = await _load(ctx, snapshot_id, offset, stop, with_tags=True)
    head_json = _encode(summary(head))
    return _chunks(head_json, rows, tags)


def _chunks(head_json: bytes, rows: list[snap_db.ValueRow], tags: dict[UUID, list[TagRef]]) -> Iterator[bytes]:
    yield head_json[:-1] + b',"pvValues":['
    dtos = _value_dtos(rows, tags)
    first = True
    for start in range(0, len(rows), _CHUNK):
        batch = [next(dtos) for _ in range(min(_CHUNK, len(rows) - start))]
        encoded = _encode(batch)[1:-1]
        yield encoded if first else b"," + encoded
        first = False
    yield b"]}"
