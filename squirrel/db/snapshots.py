"""Snapshot and snapshot_value rows."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from squirrel.db.queries import q

Row = dict[str, Any]
ValueRow = tuple[UUID, str | None, str | None, bytes | None, bytes | None]
TextRow = tuple[str, str | None, str | None, bytes | None, bytes | None]  # the same, the PV id as text
# The same with the PV id as its 16 raw bytes (uuid_send): the fast path for big snapshots.
RawRow = tuple[bytes, str | None, str | None, bytes | None, bytes | None]
# A row to store: raw id, names, full sides, value-only sides (compare's columns).
StoreRow = tuple[bytes, str | None, str | None, bytes | None, bytes | None, bytes | None, bytes | None]
_SIGNATURE = b"PGCOPY\n\xff\r\n\0" + bytes(8)
NULL = b"\xff\xff\xff\xff"  # a NULL COPY field
_ROW_HEAD = struct.Struct("!hi16si")  # field count, uuid length, snapshot id, int4 length
_IDX_KEY = struct.Struct("!ii16s")  # idx, uuid length, pv id
LEN = struct.Struct("!i")  # a COPY field's length prefix
_LEN = LEN.pack
_FLUSH = 1 << 20
PVRow = tuple[bytes, str | None, str | None]  # raw id, setpoint address, readback address
# Appends a PV's two sides as four COPY fields (setpoint full, value-only, readback full, value-only).
SidesWriter = Callable[[bytearray, PVRow], None]


async def insert(conn: AsyncConnection[Any], values: dict[str, Any]) -> Row:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("insert_snapshot"), values)
    row = await cur.fetchone()
    assert row is not None
    return row


async def copy_raw(conn: AsyncConnection[Any], snapshot_id: UUID, rows: Iterable[StoreRow]) -> int:
    """Binary COPY of rows with their sides already encoded (imports)."""
    head = _ROW_HEAD.pack(9, 16, snapshot_id.bytes, 4)
    idx_key = _IDX_KEY.pack
    n = 0

    def pieces() -> Iterator[bytearray]:
        nonlocal n
        buf = bytearray(_SIGNATURE)
        for n, (key, sp_name, rb_name, sp, rb, sp_val, rb_val) in enumerate(rows, 1):
            buf += head
            buf += idx_key(n - 1, 16, key)
            for text in (sp_name, rb_name):
                if text is None:
                    buf += NULL
                else:
                    data = text.encode()
                    buf += _LEN(len(data))
                    buf += data
            for blob in (sp, sp_val, rb, rb_val):  # the COPY's column order
                if blob is None:
                    buf += NULL
                else:
                    buf += _LEN(len(blob))
                    buf += blob
            if len(buf) > _FLUSH:
                yield buf
                buf = bytearray()
        yield buf

    await _copy(conn, pieces())
    return n


async def copy_selected(
    conn: AsyncConnection[Any], snapshot_id: UUID, pvs: Sequence[PVRow], write_sides: SidesWriter
) -> int:
    """Binary COPY of selected PVs, `write_sides` encoding their sides straight into the buffer."""
    head = _ROW_HEAD.pack(9, 16, snapshot_id.bytes, 4)
    idx_key = _IDX_KEY.pack

    def pieces() -> Iterator[bytearray]:
        buf = bytearray(_SIGNATURE)
        for n, row in enumerate(pvs):
            buf += head
            buf += idx_key(n, 16, row[0])
            for text in (row[1], row[2]):
                if text is None:
                    buf += NULL
                else:
                    data = text.encode()
                    buf += _LEN(len(data))
                    buf += data
            write_sides(buf, row)
            if len(buf) > _FLUSH:
                yield buf
                buf = bytearray()
        yield buf

    await _copy(conn, pieces())
    return len(pvs)


async def _copy(conn: AsyncConnection[Any], pieces: Iterable[bytearray]) -> None:
    """The COPY buffer is built by hand in one tight loop (no per-value dumpers) and sent in 1 MB pieces,
    so PostgreSQL parses while the next piece is encoded."""
    cur = conn.cursor()
    async with cur.copy(q("copy_snapshot_values")) as copy:
        for piece in pieces:
            await copy.write(piece)
        await copy.write(b"\xff\xff")


async def select_pvs(conn: AsyncConnection[Any], pv_ids: list[UUID] | None, tag_ids: list[UUID] | None) -> list[PVRow]:
    """(raw id, setpoint, readback) of live PVs in name order: all when both are None, else the union."""
    params = {
        "pv_ids": pv_ids if pv_ids is not None else ([] if tag_ids is not None else None),
        "tag_ids": tag_ids if tag_ids is not None else ([] if pv_ids is not None else None),
    }
    cur = conn.cursor(binary=True)
    await cur.execute(q("select_snapshot_pvs"), params)
    return await cur.fetchall()  # type: ignore[return-value]


async def value_sides(conn: AsyncConnection[Any], snapshot_id: UUID) -> list[RawRow]:
    """(raw id, names, value-only sides) of every row in name order: what compare-with-live needs."""
    cur = conn.cursor(binary=True)
    await cur.execute(q("snapshot_value_sides"), {"id": snapshot_id})
    return await cur.fetchall()  # type: ignore[return-value]


async def snapshot_tolerances(conn: AsyncConnection[Any], snapshot_id: UUID) -> dict[bytes, tuple[float, float]]:
    """Non-zero (abs, rel) tolerances of the registry rows of the PVs stored in a snapshot, by raw id."""
    cur = conn.cursor(binary=True)
    await cur.execute(q("snapshot_tolerances"), {"id": snapshot_id})
    return {r[0]: (r[1], r[2]) for r in await cur.fetchall()}


async def pv_counts(conn: AsyncConnection[Any], snapshot_ids: list[UUID]) -> dict[UUID, int]:
    cur = await conn.execute(q("snapshot_pv_counts"), {"ids": snapshot_ids})
    return {r[0]: r[1] for r in await cur.fetchall()}


async def set_tags(conn: AsyncConnection[Any], snapshot_id: UUID) -> None:
    """Record the tags the snapshot's PVs carry now (for the list's `tags` filter)."""
    await conn.execute(q("set_snapshot_tags"), {"id": snapshot_id})


async def known_tag_ids(conn: AsyncConnection[Any], tag_ids: list[UUID]) -> set[UUID]:
    """Which of `tag_ids` name an existing tag."""
    cur = await conn.execute(q("known_tag_ids"), {"ids": tag_ids})
    return {r[0] for r in await cur.fetchall()}


async def by_job(conn: AsyncConnection[Any], job_id: UUID) -> Row | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("snapshot_by_job"), {"job_id": job_id})
    return await cur.fetchone()


async def get(conn: AsyncConnection[Any], snapshot_id: UUID, *, for_update: bool = False) -> Row | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("get_snapshot_for_update" if for_update else "get_snapshot"), {"id": snapshot_id})
    return await cur.fetchone()


async def list_page(
    conn: AsyncConnection[Any],
    title: str | None,
    tags: list[UUID] | None,
    labels: list[str] | None,
    limit: int,
    offset: int,
) -> list[Row]:
    cur = conn.cursor(row_factory=dict_row)
    params = {"title": title, "tags": tags, "labels": labels, "limit": limit, "offset": offset}
    await cur.execute(q("list_snapshots"), params)
    return await cur.fetchall()


async def values(conn: AsyncConnection[Any], snapshot_id: UUID, start: int, stop: int) -> list[ValueRow]:
    """Value rows with start <= idx < stop, in PV-name order (binary transfer: bytea stays bytes)."""
    cur = conn.cursor(binary=True)
    await cur.execute(q("snapshot_values"), {"id": snapshot_id, "start": start, "stop": stop})
    return await cur.fetchall()  # type: ignore[return-value]


async def values_text(conn: AsyncConnection[Any], snapshot_id: UUID, start: int, stop: int) -> list[TextRow]:
    """Value rows as `values`, the PV id as text (it goes to JSON as is)."""
    cur = conn.cursor(binary=True)
    await cur.execute(q("snapshot_values_text"), {"id": snapshot_id, "start": start, "stop": stop})
    return await cur.fetchall()  # type: ignore[return-value]


async def value_tags(conn: AsyncConnection[Any], snapshot_id: UUID, start: int, stop: int) -> list[tuple[Any, ...]]:
    """(PV id as text, tag id, name, description, group id, group name) of the PVs in the range."""
    cur = await conn.execute(q("snapshot_value_tags"), {"id": snapshot_id, "start": start, "stop": stop})
    return await cur.fetchall()


async def update(conn: AsyncConnection[Any], snapshot_id: UUID, values: dict[str, Any]) -> Row | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("update_snapshot"), {"id": snapshot_id, **values})
    return await cur.fetchone()


async def delete(conn: AsyncConnection[Any], snapshot_id: UUID) -> None:
    await conn.execute(q("delete_snapshot"), {"id": snapshot_id})


async def tolerances(conn: AsyncConnection[Any], pv_ids: Sequence[UUID]) -> dict[UUID, tuple[float, float, bool]]:
    cur = await conn.execute(q("pv_tolerances"), {"ids": list(pv_ids)})
    return {r[0]: (r[1], r[2], r[3]) for r in await cur.fetchall()}
