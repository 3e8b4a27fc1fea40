"""Repository for the monitor: which addresses the registry wants watched."""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from squirrel.db.pool import connection
from squirrel.db.queries import q


async def monitored_addresses(pool: AsyncConnectionPool) -> set[str]:
    async with connection(pool) as conn:
        cur = await conn.execute(q("monitored_addresses"))
        rows: list[Any] = await cur.fetchall()
        return {row[0] for row in rows}
