"""The rows compare reads from PostgreSQL (snapshot ↔ snapshot); raw bytes in, decoded by the service."""

from __future__ import annotations

from uuid import UUID

from squirrel.db.rows import Conn, fetch_tuples

# (raw pv id, sp name 1, rb name 1, sp name 2, rb name 2, sp 1, rb 1, sp 2, rb 2, in 1, in 2, abs, rel)
SideRow = tuple[
    bytes,
    str | None,
    str | None,
    str | None,
    str | None,
    bytes | None,
    bytes | None,
    bytes | None,
    bytes | None,
    bool,
    bool,
    float,
    float,
]


async def differing_rows(conn: Conn, first: UUID, second: UUID) -> list[SideRow]:
    """Rows only one snapshot has or whose value-only sides differ byte-wise, with addresses and tolerances."""
    return await fetch_tuples(conn, "compare_snapshot_sides", {"first": first, "second": second}, binary=True)
