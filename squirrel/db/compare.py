"""The rows compare reads from PostgreSQL (snapshot ↔ snapshot); raw bytes in, decoded by the service."""

from __future__ import annotations

from uuid import UUID

from squirrel.db.queries import q
from squirrel.db.rows import Conn, fetch_scalar, fetch_tuples

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


PROBES = 17  # idx positions checked to decide whether two snapshots are aligned


def probe_positions(count: int) -> list[int]:
    """Evenly spaced idx positions of a snapshot of `count` rows, both ends included."""
    if count <= 0:
        return []
    return sorted({round(i * (count - 1) / (PROBES - 1)) for i in range(PROBES)})


async def aligned(conn: Conn, first: UUID, second: UUID, counts: tuple[int, int]) -> bool:
    """Whether the snapshots look like two of the same registry: as many rows, and the same PV at each
    probed idx. Only a choice of plan hangs on it: both queries return the same rows."""
    if counts[0] != counts[1]:
        return False
    probes = probe_positions(counts[0])
    same = await fetch_scalar(conn, "compare_alignment_probe", {"first": first, "second": second, "probes": probes})
    return bool(same == len(probes))


async def _query(conn: Conn, first: UUID, second: UUID, counts: tuple[int, int]) -> str:
    """The query for this pair (and its session setting): the merge along idx for aligned snapshots."""
    await _by_key_range(conn)
    if not await aligned(conn, first, second, counts):
        return "compare_snapshot_sides"
    # The planner prices a hash of one snapshot below the merge join of two ordered key ranges; measured
    # at 200K rows the merge takes 90 ms and the hash 170-215 ms, at 50K both about 40 ms.
    await conn.execute("SET LOCAL enable_hashjoin = off")
    return "compare_aligned_sides"


async def differing_rows(conn: Conn, first: UUID, second: UUID, counts: tuple[int, int]) -> list[SideRow]:
    """Rows only one snapshot has or whose value-only sides differ byte-wise, with addresses and tolerances.
    `counts`: each snapshot's row count (its pv_count)."""
    name = await _query(conn, first, second, counts)
    return await fetch_tuples(conn, name, {"first": first, "second": second}, binary=True)


async def plan(conn: Conn, first: UUID, second: UUID, counts: tuple[int, int]) -> str:
    """PostgreSQL's plan for differing_rows, as it would run it (EXPLAIN, for diagnosis and tests)."""
    name = await _query(conn, first, second, counts)
    cur = await conn.execute("EXPLAIN " + q(name), {"first": first, "second": second})
    return "\n".join(str(row[0]) for row in await cur.fetchall())
