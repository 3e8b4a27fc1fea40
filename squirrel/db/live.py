"""Registry reads for live subscriptions (tag ids → monitored addresses)."""

from __future__ import annotations

from uuid import UUID

import psycopg

from squirrel.db.queries import q


async def existing_tags(conn: psycopg.AsyncConnection[object], tag_ids: list[UUID]) -> set[UUID]:
    cur = await conn.execute(q("live_existing_tags"), {"tag_ids": tag_ids})
    return {row[0] for row in await cur.fetchall()}  # type: ignore[index]


async def addresses_for_tags(conn: psycopg.AsyncConnection[object], tag_ids: list[UUID]) -> set[str]:
    """Setpoint and readback addresses of live PVs carrying any of the tags (config is never monitored)."""
    cur = await conn.execute(q("live_addresses_for_tags"), {"tag_ids": tag_ids})
    return {row[0] for row in await cur.fetchall()}  # type: ignore[index]
