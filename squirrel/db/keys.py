"""API key rows."""

from __future__ import annotations

from uuid import UUID

from squirrel.db.rows import Conn, Row, execute, fetch_all, fetch_one


async def insert(conn: Conn, app_name: str, token_hash: bytes, scopes: list[str]) -> Row:
    row = await fetch_one(conn, "insert_api_key", {"app_name": app_name, "token_hash": token_hash, "scopes": scopes})
    assert row is not None
    return row


async def by_hash(conn: Conn, token_hash: bytes) -> Row | None:
    return await fetch_one(conn, "get_api_key_by_hash", {"token_hash": token_hash})


async def get(conn: Conn, key_id: UUID) -> Row | None:
    return await fetch_one(conn, "get_api_key", {"id": key_id})


async def list_all(conn: Conn, include_inactive: bool) -> list[Row]:
    return await fetch_all(conn, "list_api_keys", {"include_inactive": include_inactive})


async def count(conn: Conn) -> Row:
    row = await fetch_one(conn, "count_api_keys")
    assert row is not None
    return row


async def revoke(conn: Conn, key_id: UUID) -> Row | None:
    return await fetch_one(conn, "revoke_api_key", {"id": key_id})


async def touch(conn: Conn, key_id: UUID) -> None:
    await execute(conn, "touch_api_key", {"id": key_id})
