"""What snapshot imports need beyond storing rows: the duplicate look-ups and the origin columns."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from squirrel.db.queries import q

Row = dict[str, Any]


async def lock(conn: AsyncConnection[Any]) -> None:
    """Serialise imports until this transaction ends."""
    await conn.execute(q("lock_snapshot_imports"))


async def duplicate(conn: AsyncConnection[Any], source: UUID | None, digest: bytes) -> Row | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("import_duplicate"), {"source": source, "digest": digest})
    return await cur.fetchone()


async def candidates(conn: AsyncConnection[Any], title: str, pv_count: int, limit: int) -> list[Row]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(q("import_candidates"), {"title": title, "pv_count": pv_count, "limit": limit})
    return await cur.fetchall()


async def set_origin(conn: AsyncConnection[Any], snapshot_id: UUID, source: UUID | None, digest: bytes) -> None:
    await conn.execute(q("set_import_origin"), {"id": snapshot_id, "source": source, "digest": digest})


async def registry_ids(conn: AsyncConnection[Any], addresses: list[str]) -> list[tuple[UUID, str | None, str | None]]:
    if not addresses:
        return []
    cur = await conn.execute(q("registry_ids_by_address"), {"addresses": addresses})
    return [(r[0], r[1], r[2]) for r in await cur.fetchall()]
