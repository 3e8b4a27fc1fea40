"""Repository for the monitor: the registry rows whose addresses it watches."""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from squirrel.db.pool import connection
from squirrel.db.queries import q


async def monitored_rows(
    pool: AsyncConnectionPool, ids: list[str] | None = None
) -> list[tuple[str, str | None, str | None]]:
    """(id, setpoint, readback) of every live PV, or of the live ones among `ids` (a registry change)."""
    async with connection(pool) as conn:
        if ids is None:
            cur = await conn.execute(q("monitored_rows"))
        else:
            cur = await conn.execute(q("monitored_rows_by_id"), {"ids": ids})
        rows: list[Any] = await cur.fetchall()
        return [(row[0], row[1], row[2]) for row in rows]
