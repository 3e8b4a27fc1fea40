"""The rows compare reads from PostgreSQL (snapshot ↔ snapshot); raw bytes in, decoded by the service."""

from __future__ import annotations

from uuid import UUID

from squirrel.db.queries import q
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


async def _by_key_range(conn: Conn) -> None:
    """A snapshot's rows are one PRIMARY KEY range: have this transaction read them through it. While few
    snapshots are stored one looks like a large share of the table, and the planner then may scan all of
    it (even with the pool's random_page_cost), so compare's cost grew with every other snapshot's rows."""
    await conn.execute("SET LOCAL enable_seqscan = off")


async def differing_rows(conn: Conn, first: UUID, second: UUID) -> list[SideRow]:
    """Rows only one snapshot has or whose value-only sides differ byte-wise, with addresses and tolerances."""
    await _by_key_range(conn)
    return await fetch_tuples(conn, "compare_snapshot_sides", {"first": first, "second": second}, binary=True)


async def plan(conn: Conn, first: UUID, second: UUID) -> str:
    """PostgreSQL's plan for differing_rows, as it would run it (EXPLAIN, for diagnosis and tests)."""
    await _by_key_range(conn)
    cur = await conn.execute("EXPLAIN " + q("compare_snapshot_sides"), {"first": first, "second": second})
    return "\n".join(str(row[0]) for row in await cur.fetchall())
