"""Registry reads for live subscriptions (tag ids → monitored addresses)."""

from __future__ import annotations

from uuid import UUID

from squirrel.db.rows import Conn, fetch_tuples


async def existing_tags(conn: Conn, tag_ids: list[UUID]) -> set[UUID]:
    return {row[0] for row in await fetch_tuples(conn, "live_existing_tags", {"tag_ids": tag_ids})}


async def addresses_for_tags(conn: Conn, tag_ids: list[UUID]) -> set[str]:
    """Setpoint and readback addresses of live PVs carrying any of the tags (config is never monitored)."""
    return {row[0] for row in await fetch_tuples(conn, "live_addresses_for_tags", {"tag_ids": tag_ids})}
