"""Snapshot and snapshot_value rows, and the binary COPY that stores a snapshot's values."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar
from uuid import UUID

from squirrel.db.queries import q
from squirrel.db.rows import Conn, Page, Row, execute, fetch_all, fetch_one, fetch_tuples

ValueRow = tuple[UUID, str | None, str | None, bytes | None, bytes | None]
TextRow = tuple[str, str | None, str | None, bytes | None, bytes | None]  # the same, the PV id as text
# The same with the PV id as its 16 raw bytes (uuid_send): the fast path for big snapshots.
RawRow = tuple[bytes, str | None, str | None, bytes | None, bytes | None]
# A row to store: raw id, names, full sides, value-only sides (compare's columns).
StoreRow = tuple[bytes, str | None, str | None, bytes | None, bytes | None, bytes | None, bytes | None]
PVRow = tuple[bytes, str | None, str | None]  # raw id, setpoint address, readback address
# Appends a PV's two sides as four COPY fields (setpoint full, value-only, readback full, value-only),
# each framed with LEN (NULL for none): the caller encodes straight into the buffer (no per-PV bytes).
SidesWriter = Callable[[bytearray, PVRow], None]

# The binary COPY format (PostgreSQL docs, "Binary Format"), written by hand in one tight loop.
_SIGNATURE = b"PGCOPY\n\xff\r\n\0" + bytes(8)  # signature, flags, header extension length
_TRAILER = b"\xff\xff"  # field count -1: end of data
NULL = b"\xff\xff\xff\xff"  # a NULL COPY field
LEN = struct.Struct("!i")  # a COPY field's length prefix
_LEN = LEN.pack
_ROW_HEAD = struct.Struct("!hi16si")  # field count, uuid length, snapshot id, int4 length
_IDX_KEY = struct.Struct("!ii16s")  # idx, uuid length, pv id
_FIELDS = 9  # snapshot_id, idx, pv_id, setpoint_name, readback_name, and the four sides
_FLUSH = 1 << 20
_R = TypeVar("_R", bound=tuple[Any, ...])


async def insert(conn: Conn, values: dict[str, Any]) -> Row:
    row = await fetch_one(conn, "insert_snapshot", values)
    assert row is not None
    return row


async def copy_selected(conn: Conn, snapshot_id: UUID, pvs: Sequence[PVRow], write_sides: SidesWriter) -> int:
    """Store the selected PVs, `write_sides` encoding their sides straight into the COPY buffer."""
    return await _copy_values(conn, snapshot_id, pvs, write_sides)


async def copy_raw(conn: Conn, snapshot_id: UUID, rows: Sequence[StoreRow]) -> int:
    """Store rows whose sides are already encoded (imports, backups of stored rows)."""
    return await _copy_values(conn, snapshot_id, rows, write_encoded_sides)


def write_encoded_sides(buf: bytearray, row: StoreRow) -> None:
    """The SidesWriter of rows whose four sides are already encoded bytes (or None)."""
    for blob in (row[3], row[5], row[4], row[6]):  # the COPY's column order
        if blob is None:
            buf += NULL
        else:
            buf += _LEN(len(blob))
            buf += blob


def copy_pieces(
    snapshot_id: UUID, rows: Iterable[_R], write_sides: Callable[[bytearray, _R], None]
) -> Iterator[bytearray]:
    """The binary COPY data of snapshot_value rows (raw id, setpoint name, readback name, ...), in pieces
    of about 1 MB; idx counts from 0 in the order given. The one builder: `write_sides` adds the sides."""
    head = _ROW_HEAD.pack(_FIELDS, 16, snapshot_id.bytes, 4)
    idx_key = _IDX_KEY.pack
    buf = bytearray(_SIGNATURE)
    for idx, row in enumerate(rows):
        buf += head
        buf += idx_key(idx, 16, row[0])
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
    buf += _TRAILER
    yield buf


async def _copy_values(
    conn: Conn, snapshot_id: UUID, rows: Sequence[_R], write_sides: Callable[[bytearray, _R], None]
) -> int:
    """Send the pieces as they are built, so PostgreSQL parses one while the next is encoded."""
    cur = conn.cursor()
    async with cur.copy(q("copy_snapshot_values")) as copy:
        for piece in copy_pieces(snapshot_id, rows, write_sides):
            await copy.write(piece)
    return len(rows)


async def select_pvs(conn: Conn, pv_ids: list[UUID] | None, tag_ids: list[UUID] | None) -> list[PVRow]:
    """(raw id, setpoint, readback) of live PVs in name order: all when both are None, else the union."""
    params = {
        "pv_ids": pv_ids if pv_ids is not None else ([] if tag_ids is not None else None),
        "tag_ids": tag_ids if tag_ids is not None else ([] if pv_ids is not None else None),
    }
    return await fetch_tuples(conn, "select_snapshot_pvs", params, binary=True)


async def value_sides(conn: Conn, snapshot_id: UUID) -> list[RawRow]:
    """(raw id, names, value-only sides) of every row in name order: what compare-with-live needs."""
    return await fetch_tuples(conn, "snapshot_value_sides", {"id": snapshot_id}, binary=True)


async def snapshot_tolerances(conn: Conn, snapshot_id: UUID) -> dict[bytes, tuple[float, float]]:
    """Non-zero (abs, rel) tolerances of the registry rows of the PVs stored in a snapshot, by raw id."""
    found = await fetch_tuples(conn, "snapshot_tolerances", {"id": snapshot_id}, binary=True)
    return {r[0]: (r[1], r[2]) for r in found}


async def pv_counts(conn: Conn, snapshot_ids: list[UUID]) -> dict[UUID, int]:
    return {r[0]: r[1] for r in await fetch_tuples(conn, "snapshot_pv_counts", {"ids": snapshot_ids})}


async def set_tags(conn: Conn, snapshot_id: UUID) -> None:
    """Record the tags the snapshot's PVs carry now (for the list's `tags` filter)."""
    await execute(conn, "set_snapshot_tags", {"id": snapshot_id})


async def known_tag_ids(conn: Conn, tag_ids: list[UUID]) -> set[UUID]:
    """Which of `tag_ids` name an existing tag."""
    return {r[0] for r in await fetch_tuples(conn, "known_tag_ids", {"ids": tag_ids})}


async def by_job(conn: Conn, job_id: UUID) -> Row | None:
    return await fetch_one(conn, "snapshot_by_job", {"job_id": job_id})


async def get(conn: Conn, snapshot_id: UUID, *, for_update: bool = False) -> Row | None:
    return await fetch_one(conn, "get_snapshot_for_update" if for_update else "get_snapshot", {"id": snapshot_id})


async def list_page(
    conn: Conn, title: str | None, tags: list[UUID] | None, labels: list[str] | None, page: Page
) -> list[Row]:
    return await fetch_all(conn, "list_snapshots", page.params(title=title, tags=tags, labels=labels))


async def values(conn: Conn, snapshot_id: UUID, start: int, stop: int) -> list[ValueRow]:
    """Value rows with start <= idx < stop, in PV-name order (binary transfer: bytea stays bytes)."""
    return await fetch_tuples(conn, "snapshot_values", {"id": snapshot_id, "start": start, "stop": stop}, binary=True)


async def values_text(conn: Conn, snapshot_id: UUID, start: int, stop: int) -> list[TextRow]:
    """Value rows as `values`, the PV id as text (it goes to JSON as is)."""
    return await fetch_tuples(
        conn, "snapshot_values_text", {"id": snapshot_id, "start": start, "stop": stop}, binary=True
    )


async def value_tags(conn: Conn, snapshot_id: UUID, start: int, stop: int) -> list[tuple[Any, ...]]:
    """(PV id as text, tag id, name, description, group id, group name) of the PVs in the range."""
    return await fetch_tuples(conn, "snapshot_value_tags", {"id": snapshot_id, "start": start, "stop": stop})


async def update(conn: Conn, snapshot_id: UUID, values: dict[str, Any]) -> Row | None:
    return await fetch_one(conn, "update_snapshot", {"id": snapshot_id, **values})


async def delete(conn: Conn, snapshot_id: UUID) -> None:
    await execute(conn, "delete_snapshot", {"id": snapshot_id})


async def tolerances(conn: Conn, pv_ids: Sequence[UUID]) -> dict[UUID, tuple[float, float, bool]]:
    return {r[0]: (r[1], r[2], r[3]) for r in await fetch_tuples(conn, "pv_tolerances", {"ids": list(pv_ids)})}
