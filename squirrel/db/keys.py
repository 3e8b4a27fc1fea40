"""API key rows."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from squirrel.db.queries import q

Row = dict[str, Any]


async def insert(conn: AsyncConnection[Any], app_name: str, token_hash: bytes, scopes: list[str]) -> Row:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("insert_api_key"), {"app_name": app_name, "token_hash": token_hash, "scopes": scopes})
    row = await cur.fetchone()
    assert row is not None
    return row


async def by_hash(conn: AsyncConnection[Any], token_hash: bytes) -> Row | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("get_api_key_by_hash"), {"token_hash": token_hash})
    return await cur.fetchone()


async def get(conn: AsyncConnection[Any], key_id: UUID) -> Row | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("get_api_key"), {"id": key_id})
    return await cur.fetchone()


async def list_all(conn: AsyncConnection[Any], include_inactive: bool) -> list[Row]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("list_api_keys"), {"include_inactive": include_inactive})
    return await cur.fetchall()


async def count(conn: AsyncConnection[Any]) -> Row:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("count_api_keys"))
    row = await cur.fetchone()
    assert row is not None
    return row


async def revoke(conn: AsyncConnection[Any], key_id: UUID) -> Row | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("revoke_api_key"), {"id": key_id})
    return await cur.fetchone()


async def touch(conn: AsyncConnection[Any], key_id: UUID) -> None:
    await conn.execute(q("touch_api_key"), {"id": key_id})
