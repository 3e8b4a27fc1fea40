"""PV registry rows: reads, keyset pages, binary-COPY bulk inserts, soft deletes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import errors as pgerr
from psycopg.types.json import Jsonb

from squirrel.db.rows import Conn, Page, Row, copy_rows, execute, fetch_all, fetch_one, fetch_scalar, fetch_tuples
from squirrel.errors import ConflictError

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


async def by_ids(conn: Conn, ids: Sequence[UUID]) -> list[Row]:
    """Live PVs with their tags (a list of {id,name,description,groupId,groupName}), in listing order."""
    if not ids:
        return []
    return await fetch_all(conn, "select_pvs_by_ids", {"ids": list(ids)})


async def for_update(conn: Conn, pv_id: UUID) -> Row | None:
    return await fetch_one(conn, "select_pv_for_update", {"id": pv_id})


def _filters(pattern: str | None, tag_filters: dict[str, list[str]] | None) -> dict[str, Any]:
    return {"pattern": pattern, "tag_filters": Jsonb(tag_filters) if tag_filters else None}


async def page_ids(
    conn: Conn,
    pattern: str | None,
    tag_filters: dict[str, list[str]] | None,
    after: tuple[str, UUID] | None,
    limit: int,
) -> list[Row]:
    params = _filters(pattern, tag_filters)
    params.update(after_name=after[0] if after else None, after_id=after[1] if after else None, limit=limit)
    return await fetch_all(conn, "page_pv_ids", params)


async def count_page(conn: Conn, pattern: str | None, tag_filters: dict[str, list[str]] | None) -> int:
    return int(await fetch_scalar(conn, "count_pv_page", _filters(pattern, tag_filters)))


async def search_ids(
    conn: Conn, pattern: str | None, devices: list[str] | None, tags: list[UUID] | None, page: Page
) -> tuple[list[UUID], int]:
    params = page.params(pattern=pattern, devices=devices, tags=tags)
    found = await fetch_all(conn, "search_pv_ids", params)
    if found:
        return [r["id"] for r in found], int(found[0]["total"])
    # An offset past the end still reports the real total.
    return [], int(await fetch_scalar(conn, "count_pv_search", params))


async def devices(conn: Conn) -> list[str]:
    return [r[0] for r in await fetch_tuples(conn, "list_devices")]


async def existing_setpoints(conn: Conn, addresses: list[str], except_id: UUID | None = None) -> list[str]:
    if not addresses:
        return []
    return [
        r[0] for r in await fetch_tuples(conn, "existing_setpoints", {"addresses": addresses, "except_id": except_id})
    ]


async def tags_by_ids(conn: Conn, ids: Sequence[UUID]) -> dict[UUID, Row]:
    if not ids:
        return {}
    return {r["id"]: r for r in await fetch_all(conn, "tags_by_ids", {"ids": list(ids)})}


async def now(conn: Conn) -> datetime:
    value: datetime = await fetch_scalar(conn, "transaction_now")
    return value


async def copy_pvs(conn: Conn, rows: Iterable[Sequence[Any]]) -> None:
    """Bulk insert with binary COPY (columns as PV_COPY_TYPES); a live setpoint address taken is a 409."""
    try:
        await copy_rows(conn, "copy_pvs", PV_COPY_TYPES, rows)
    except pgerr.UniqueViolation as exc:
        if exc.diag.constraint_name != "pv_setpoint_address_key":
            raise
        raise ConflictError(_taken_message(exc.diag.message_detail)) from exc


def _taken_message(detail: str | None) -> str:
    match = _KEY_DETAIL.search(detail or "")
    address = repr(match.group(1)) if match else "in this request"
    return f"a PV with setpoint address {address} already exists"


async def copy_pv_tags(conn: Conn, links: Sequence[tuple[UUID, UUID]]) -> None:
    if not links:
        return
    await copy_rows(conn, "copy_pv_tags", ["uuid", "uuid"], links)


async def update(conn: Conn, pv_id: UUID, values: dict[str, Any], updated_by: str) -> None:
    await execute(conn, "update_pv", {**values, "id": pv_id, "updated_by": updated_by})


async def replace_tags(conn: Conn, pv_id: UUID, tag_ids: list[UUID]) -> None:
    await execute(conn, "delete_pv_tags", {"pv_id": pv_id})
    if tag_ids:
        await execute(conn, "insert_pv_tags", {"pv_id": pv_id, "tag_ids": tag_ids})


async def soft_delete(conn: Conn, pv_id: UUID, updated_by: str) -> Row | None:
    return await fetch_one(conn, "soft_delete_pv", {"id": pv_id, "updated_by": updated_by})


async def export_rows(conn: Conn) -> list[Row]:
    return await fetch_all(conn, "export_pvs")


async def notify_registry(conn: Conn) -> None:
    """Tell the monitor (LISTEN squirrel_registry) that the registry changed; delivered on commit."""
    await execute(conn, "notify_registry")


async def select_pvs_for_snapshot(conn: Conn, pv_ids: list[UUID] | None, tag_ids: list[UUID] | None) -> list[Row]:
    """Live PVs to snapshot: all when both are None, else the union of `pv_ids` and PVs carrying any tag."""
    params = {
        "pv_ids": pv_ids if pv_ids is not None else ([] if tag_ids is not None else None),
        "tag_ids": tag_ids if tag_ids is not None else ([] if pv_ids is not None else None),
    }
    return await fetch_all(conn, "select_pvs_for_snapshot", params)


async def monitored_addresses(conn: Conn) -> set[str]:
    """Every non-null setpoint and readback address of live PVs."""
    return {r[0] for r in await fetch_tuples(conn, "pv_monitored_addresses")}
