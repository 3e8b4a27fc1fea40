"""Tag group and tag rows."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from squirrel.db.queries import q

Row = dict[str, Any]


async def _rows(conn: AsyncConnection[Any], name: str, params: dict[str, Any] | None = None) -> list[Row]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q(name), params)
    return await cur.fetchall()


async def _one(conn: AsyncConnection[Any], name: str, params: dict[str, Any]) -> Row | None:
    rows = await _rows(conn, name, params)
    return rows[0] if rows else None


async def list_groups(conn: AsyncConnection[Any]) -> list[Row]:
    return await _rows(conn, "list_tag_groups")


async def get_group(conn: AsyncConnection[Any], group_id: UUID) -> Row | None:
    return await _one(conn, "get_tag_group", {"id": group_id})


async def tags_of_group(conn: AsyncConnection[Any], group_id: UUID) -> list[Row]:
    return await _rows(conn, "tags_of_group", {"group_id": group_id})


async def group_named(conn: AsyncConnection[Any], name: str, except_id: UUID | None = None) -> Row | None:
    return await _one(conn, "find_tag_group_by_name", {"name": name, "except_id": except_id})


async def tag_named(conn: AsyncConnection[Any], group_id: UUID, name: str, except_id: UUID | None = None) -> Row | None:
    return await _one(conn, "find_tag_by_name", {"group_id": group_id, "name": name, "except_id": except_id})


async def insert_group(conn: AsyncConnection[Any], name: str, description: str | None) -> UUID:
    row = await _one(conn, "insert_tag_group", {"name": name, "description": description})
    assert row is not None
    return UUID(str(row["id"]))


async def update_group(conn: AsyncConnection[Any], group_id: UUID, name: str, description: str | None) -> bool:
    return await _one(conn, "update_tag_group", {"id": group_id, "name": name, "description": description}) is not None


async def delete_group(conn: AsyncConnection[Any], group_id: UUID) -> Row | None:
    return await _one(conn, "delete_tag_group", {"id": group_id})


async def insert_tag(conn: AsyncConnection[Any], group_id: UUID, name: str, description: str | None) -> UUID:
    row = await _one(conn, "insert_tag", {"group_id": group_id, "name": name, "description": description})
    assert row is not None
    return UUID(str(row["id"]))


async def get_tag(conn: AsyncConnection[Any], group_id: UUID, tag_id: UUID) -> Row | None:
    return await _one(conn, "get_tag", {"id": tag_id, "group_id": group_id})


async def update_tag(
    conn: AsyncConnection[Any], group_id: UUID, tag_id: UUID, name: str, description: str | None
) -> bool:
    params = {"id": tag_id, "group_id": group_id, "name": name, "description": description}
    return await _one(conn, "update_tag", params) is not None


async def delete_tag(conn: AsyncConnection[Any], group_id: UUID, tag_id: UUID) -> Row | None:
    return await _one(conn, "delete_tag", {"id": tag_id, "group_id": group_id})


async def groups_by_lower_names(conn: AsyncConnection[Any], lower_names: list[str]) -> list[Row]:
    return await _rows(conn, "groups_by_lower_names", {"names": lower_names})


async def insert_groups_missing(conn: AsyncConnection[Any], names: list[str]) -> list[Row]:
    if not names:
        return []
    return await _rows(conn, "insert_tag_groups_missing", {"names": names})


async def tags_of_groups(conn: AsyncConnection[Any], group_ids: list[UUID]) -> list[Row]:
    if not group_ids:
        return []
    return await _rows(conn, "tags_of_groups", {"group_ids": group_ids})


async def insert_tags_missing(conn: AsyncConnection[Any], pairs: list[tuple[UUID, str]]) -> list[Row]:
    if not pairs:
        return []
    params = {"group_ids": [p[0] for p in pairs], "names": [p[1] for p in pairs]}
    return await _rows(conn, "insert_tags_missing", params)


async def all_tags(conn: AsyncConnection[Any]) -> list[Row]:
    return await _rows(conn, "all_tags")
