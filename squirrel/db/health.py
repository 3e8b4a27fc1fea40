"""Readiness of the database itself."""

from __future__ import annotations

from squirrel.db.rows import Conn, fetch_scalar


async def ping(conn: Conn) -> None:
    """One round trip through a query: a connection that cannot run one raises (translated by `connection`)."""
    await fetch_scalar(conn, "health_ping")
