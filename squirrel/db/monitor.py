"""Repository for the monitor: the registry rows whose addresses it watches."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from squirrel.db.pool import connection
from squirrel.db.rows import fetch_tuples


async def monitored_rows(
    pool: AsyncConnectionPool, ids: list[str] | None = None
) -> list[tuple[str, str | None, str | None]]:
    """(id, setpoint, readback) of every live PV, or of the live ones among `ids` (a registry change)."""
    async with connection(pool) as conn:
        if ids is None:
            rows = await fetch_tuples(conn, "monitored_rows")
        else:
            rows = await fetch_tuples(conn, "monitored_rows_by_id", {"ids": ids})
        return [(row[0], row[1], row[2]) for row in rows]
