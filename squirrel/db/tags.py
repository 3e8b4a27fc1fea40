"""Tag group and tag rows."""

from __future__ import annotations

from uuid import UUID

from squirrel.db.rows import Conn, Row, fetch_all, fetch_one


async def list_groups(conn: Conn) -> list[Row]:
    return await fetch_all(conn, "list_tag_groups")


async def get_group(conn: Conn, group_id: UUID) -> Row | None:
    return await fetch_one(conn, "get_tag_group", {"id": group_id})


async def tags_of_group(conn: Conn, group_id: UUID) -> list[Row]:
    return await fetch_all(conn, "tags_of_group", {"group_id": group_id})


async def group_named(conn: Conn, name: str, except_id: UUID | None = None) -> Row | None:
    return await fetch_one(conn, "find_tag_group_by_name", {"name": name, "except_id": except_id})


async def tag_named(conn: Conn, group_id: UUID, name: str, except_id: UUID | None = None) -> Row | None:
    return await fetch_one(conn, "find_tag_by_name", {"group_id": group_id, "name": name, "except_id": except_id})


async def insert_group(conn: Conn, name: str, description: str | None) -> UUID:
    row = await fetch_one(conn, "insert_tag_group", {"name": name, "description": description})
    assert row is not None
    return UUID(str(row["id"]))


async def update_group(conn: Conn, group_id: UUID, name: str, description: str | None) -> bool:
    return (
        await fetch_one(conn, "update_tag_group", {"id": group_id, "name": name, "description": description})
        is not None
    )


async def delete_group(conn: Conn, group_id: UUID) -> Row | None:
    return await fetch_one(conn, "delete_tag_group", {"id": group_id})


async def insert_tag(conn: Conn, group_id: UUID, name: str, description: str | None) -> UUID:
    row = await fetch_one(conn, "insert_tag", {"group_id": group_id, "name": name, "description": description})
    assert row is not None
    return UUID(str(row["id"]))


async def get_tag(conn: Conn, group_id: UUID, tag_id: UUID) -> Row | None:
    return await fetch_one(conn, "get_tag", {"id": tag_id, "group_id": group_id})


async def update_tag(conn: Conn, group_id: UUID, tag_id: UUID, name: str, description: str | None) -> bool:
    params = {"id": tag_id, "group_id": group_id, "name": name, "description": description}
    return await fetch_one(conn, "update_tag", params) is not None


async def delete_tag(conn: Conn, group_id: UUID, tag_id: UUID) -> Row | None:
    return await fetch_one(conn, "delete_tag", {"id": tag_id, "group_id": group_id})


async def groups_by_lower_names(conn: Conn, lower_names: list[str]) -> list[Row]:
    return await fetch_all(conn, "groups_by_lower_names", {"names": lower_names})


async def insert_groups_missing(conn: Conn, names: list[str]) -> list[Row]:
    if not names:
        return []
    return await fetch_all(conn, "insert_tag_groups_missing", {"names": names})


async def tags_of_groups(conn: Conn, group_ids: list[UUID]) -> list[Row]:
    if not group_ids:
        return []
    return await fetch_all(conn, "tags_of_groups", {"group_ids": group_ids})


async def insert_tags_missing(conn: Conn, pairs: list[tuple[UUID, str]]) -> list[Row]:
    if not pairs:
        return []
    params = {"group_ids": [p[0] for p in pairs], "names": [p[1] for p in pairs]}
    return await fetch_all(conn, "insert_tags_missing", params)


async def all_tags(conn: Conn) -> list[Row]:
    return await fetch_all(conn, "all_tags")
