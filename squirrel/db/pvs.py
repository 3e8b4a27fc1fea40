"""PV registry rows: reads, keyset pages, binary-COPY bulk inserts, soft deletes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg import errors as pgerr
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from squirrel.db.queries import q
from squirrel.errors import ConflictError

Row = dict[str, Any]
_KEY_DETAIL = re.compile(r"^Key \(setpoint_address\)=\((.*)\) already exists")

# Column order of copy_pvs; created_at/updated_at are the transaction's now() passed in.
PV_COPY_TYPES = [
    "uuid",
    "text",
    "text",
    "text",
    "text",
    "text",
    "float8",
    "float8",
    "bool",
    "int4",
    "bool",
    "timestamptz",
    "timestamptz",
    "text",
    "text",
    "text",
    "text",
    "text",
]


async def _rows(conn: AsyncConnection[Any], name: str, params: dict[str, Any] | None = None) -> list[Row]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q(name), params)
    return await cur.fetchall()


async def _scalar(conn: AsyncConnection[Any], name: str, params: dict[str, Any] | None = None) -> Any:
    cur = await conn.execute(q(name), params)
    row = await cur.fetchone()
    return None if row is None else row[0]


async def by_ids(conn: AsyncConnection[Any], ids: Sequence[UUID]) -> list[Row]:
    """Live PVs with their tags (a list of {id,name,description,groupId,groupName}), in listing order."""
    if not ids:
        return []
    return await _rows(conn, "select_pvs_by_ids", {"ids": list(ids)})


async def for_update(conn: AsyncConnection[Any], pv_id: UUID) -> Row | None:
    rows = await _rows(conn, "select_pv_for_update", {"id": pv_id})
    return rows[0] if rows else None


def _filters(pattern: str | None, tag_filters: dict[str, list[str]] | None) -> dict[str, Any]:
    return {"pattern": pattern, "tag_filters": Jsonb(tag_filters) if tag_filters else None}


async def page_ids(
    conn: AsyncConnection[Any],
    pattern: str | None,
    tag_filters: dict[str, list[str]] | None,
    after: tuple[str, UUID] | None,
    limit: int,
) -> list[Row]:
    params = _filters(pattern, tag_filters)
    params.update(after_name=after[0] if after else None, after_id=after[1] if after else None, limit=limit)
    return await _rows(conn, "page_pv_ids", params)


async def count_page(conn: AsyncConnection[Any], pattern: str | None, tag_filters: dict[str, list[str]] | None) -> int:
    return int(await _scalar(conn, "count_pv_page", _filters(pattern, tag_filters)))


async def search_ids(
    conn: AsyncConnection[Any],
    pattern: str | None,
    devices: list[str] | None,
    tags: list[UUID] | None,
    limit: int,
    offset: int,
) -> tuple[list[UUID], int]:
    params = {"pattern": pattern, "devices": devices, "tags": tags, "limit": limit, "offset": offset}
    rows = await _rows(conn, "search_pv_ids", params)
    if rows:
        return [r["id"] for r in rows], int(rows[0]["total"])
    # An offset past the end still reports the real total.
    return [], int(await _scalar(conn, "count_pv_search", params))


async def devices(conn: AsyncConnection[Any]) -> list[str]:
    cur = await conn.execute(q("list_devices"))
    return [r[0] for r in await cur.fetchall()]


async def existing_setpoints(
    conn: AsyncConnection[Any], addresses: list[str], except_id: UUID | None = None
) -> list[str]:
    if not addresses:
        return []
    cur = await conn.execute(q("existing_setpoints"), {"addresses": addresses, "except_id": except_id})
    return [r[0] for r in await cur.fetchall()]


async def tags_by_ids(conn: AsyncConnection[Any], ids: Sequence[UUID]) -> dict[UUID, Row]:
    if not ids:
        return {}
    return {r["id"]: r for r in await _rows(conn, "tags_by_ids", {"ids": list(ids)})}


async def now(conn: AsyncConnection[Any]) -> datetime:
    value: datetime = await _scalar(conn, "transaction_now")
    return value


async def copy_pvs(conn: AsyncConnection[Any], rows: Iterable[Sequence[Any]]) -> None:
    """Bulk insert with binary COPY (columns as PV_COPY_TYPES); a live setpoint address taken is a 409."""
    cur = conn.cursor()
    try:
        async with cur.copy(q("copy_pvs")) as copy:
            copy.set_types(PV_COPY_TYPES)
            for row in rows:
                await copy.write_row(row)
    except pgerr.UniqueViolation as exc:
        if exc.diag.constraint_name != "pv_setpoint_address_key":
            raise
        raise ConflictError(_taken_message(exc.diag.message_detail)) from exc


def _taken_message(detail: str | None) -> str:
    match = _KEY_DETAIL.search(detail or "")
    address = repr(match.group(1)) if match else "in this request"
    return f"a PV with setpoint address {address} already exists"


async def copy_pv_tags(conn: AsyncConnection[Any], links: Sequence[tuple[UUID, UUID]]) -> None:
    if not links:
        return
    cur = conn.cursor()
    async with cur.copy(q("copy_pv_tags")) as copy:
        copy.set_types(["uuid", "uuid"])
        for link in links:
            await copy.write_row(link)


async def update(conn: AsyncConnection[Any], pv_id: UUID, values: dict[str, Any], updated_by: str) -> None:
    await conn.execute(q("update_pv"), {**values, "id": pv_id, "updated_by": updated_by})


async def replace_tags(conn: AsyncConnection[Any], pv_id: UUID, tag_ids: list[UUID]) -> None:
    await conn.execute(q("delete_pv_tags"), {"pv_id": pv_id})
    if tag_ids:
        await conn.execute(q("insert_pv_tags"), {"pv_id": pv_id, "tag_ids": tag_ids})


async def soft_delete(conn: AsyncConnection[Any], pv_id: UUID, updated_by: str) -> Row | None:
    rows = await _rows(conn, "soft_delete_pv", {"id": pv_id, "updated_by": updated_by})
    return rows[0] if rows else None


async def export_rows(conn: AsyncConnection[Any]) -> list[Row]:
    return await _rows(conn, "export_pvs")


async def notify_registry(conn: AsyncConnection[Any]) -> None:
    """Tell the monitor (LISTEN squirrel_registry) that the registry changed; delivered on commit."""
    await conn.execute(q("notify_registry"))


async def select_pvs_for_snapshot(
    conn: AsyncConnection[Any], pv_ids: list[UUID] | None, tag_ids: list[UUID] | None
) -> list[dict[str, Any]]:
    """Live PVs to snapshot: all when both are None, else the union of `pv_ids` and PVs carrying any tag."""
    params = {
        "pv_ids": pv_ids if pv_ids is not None else ([] if tag_ids is not None else None),
        "tag_ids": tag_ids if tag_ids is not None else ([] if pv_ids is not None else None),
    }
    return await _rows(conn, "select_pvs_for_snapshot", params)


async def monitored_addresses(conn: AsyncConnection[Any]) -> set[str]:
    """Every non-null setpoint and readback address of live PVs."""
    cur = await conn.execute(q("pv_monitored_addresses"))
    return {r[0] for r in await cur.fetchall()}
