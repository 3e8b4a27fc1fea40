"""Snapshot and snapshot_value rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from squirrel.db.queries import q

Row = dict[str, Any]
ValueRow = tuple[UUID, str | None, str | None, bytes | None, bytes | None]
_COPY_TYPES = ["uuid", "int4", "uuid", "text", "text", "bytea", "bytea"]


async def insert(conn: AsyncConnection[Any], values: dict[str, Any]) -> Row:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("insert_snapshot"), values)
    row = await cur.fetchone()
    assert row is not None
    return row


async def copy_values(conn: AsyncConnection[Any], snapshot_id: UUID, rows: Iterable[ValueRow]) -> int:
    """Binary COPY of the values; `idx` is the position in `rows` (callers pass them in name order)."""
    n = 0
    cur = conn.cursor()
    async with cur.copy(q("copy_snapshot_values")) as copy:
        copy.set_types(_COPY_TYPES)
        write = copy.write_row
        for n, (pv_id, sp_name, rb_name, sp, rb) in enumerate(rows, 1):
            await write((snapshot_id, n - 1, pv_id, sp_name, rb_name, sp, rb))
    return n


async def set_tags(conn: AsyncConnection[Any], snapshot_id: UUID) -> None:
    """Record the tags the snapshot's PVs carry now (for the list's `tags` filter)."""
    await conn.execute(q("set_snapshot_tags"), {"id": snapshot_id})


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


async def value_tags(conn: AsyncConnection[Any], snapshot_id: UUID, start: int, stop: int) -> list[tuple[Any, ...]]:
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
