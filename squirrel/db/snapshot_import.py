"""What snapshot imports need beyond storing rows: the duplicate look-ups and the origin columns."""

from __future__ import annotations

from uuid import UUID

from squirrel.db.rows import Conn, Row, execute, fetch_all, fetch_one, fetch_tuples


async def lock(conn: Conn) -> None:
    """Serialise imports until this transaction ends."""
    await execute(conn, "lock_snapshot_imports")


async def duplicate(conn: Conn, source: UUID | None, digest: bytes) -> Row | None:
    return await fetch_one(conn, "import_duplicate", {"source": source, "digest": digest})


async def candidates(conn: Conn, title: str, pv_count: int, limit: int) -> list[Row]:
    return await fetch_all(conn, "import_candidates", {"title": title, "pv_count": pv_count, "limit": limit})


async def set_origin(conn: Conn, snapshot_id: UUID, source: UUID | None, digest: bytes) -> None:
    await execute(conn, "set_import_origin", {"id": snapshot_id, "source": source, "digest": digest})


async def registry_ids(conn: Conn, addresses: list[str]) -> list[tuple[UUID, str | None, str | None]]:
    if not addresses:
        return []
    return [(r[0], r[1], r[2]) for r in await fetch_tuples(conn, "registry_ids_by_address", {"addresses": addresses})]
