"""What the planner does with our sessions' settings: a snapshot's rows are read through its key range.

With PostgreSQL's default random_page_cost (4.0, spinning disks) and a few stored snapshots, compare
scanned the whole snapshot_value table, so its cost grew with every other snapshot's rows. The pool's
sessions set 1.1 (squirrel.db.pool), and compare reads through the key range in any case
(squirrel.db.compare): these check the setting and the plan compare runs, not any timing. The plan is
checked over several ANALYZE samples: one sample once made the planner scan the whole table at 1.1.
"""

from __future__ import annotations

from uuid import UUID

from squirrel.db import compare as compare_db
from squirrel.db.pool import RANDOM_PAGE_COST, SquirrelPool, connection
from squirrel.db.queries import q
from tests.integration.db.test_snapshot_copy import _snapshot

PVS = 50_000  # per snapshot: at this size the default cost chose a full scan of four snapshots' rows

_FILL = """
INSERT INTO snapshot_value
SELECT %(sid)s, i, md5(i::text)::uuid, 'SP:' || i, 'RB:' || i, decode(repeat('ab', 60), 'hex'),
       decode(repeat('cd', 60), 'hex'), decode(repeat('ab', 12), 'hex'), decode(repeat('cd', 12), 'hex')
FROM generate_series(1, %(n)s) i
"""


async def test_sessions_use_the_ssd_page_cost(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        cur = await conn.execute("SHOW random_page_cost")
        row = await cur.fetchone()
    assert row is not None and float(row[0]) == RANDOM_PAGE_COST


async def _plan(pool: SquirrelPool, first: UUID, second: UUID, page_cost: float | None = None) -> str:
    async with connection(pool) as conn:
        if page_cost is None:
            return await compare_db.plan(conn, first, second, (PVS, PVS))  # as compare runs it
        await conn.execute(f"SET LOCAL random_page_cost = {page_cost}")  # PostgreSQL's defaults
        cur = await conn.execute("EXPLAIN " + q("compare_snapshot_sides"), {"first": first, "second": second})
        return "\n".join(str(r[0]) for r in await cur.fetchall())


async def test_compare_reads_each_snapshot_through_its_key_range(pool: SquirrelPool) -> None:
    ids = []
    async with connection(pool) as conn:
        for _ in range(4):
            sid = await _snapshot(conn, PVS)
            await conn.execute(_FILL, {"sid": sid, "n": PVS})
            ids.append(sid)
        await conn.execute("ANALYZE snapshot_value")
    # The case this guards: PostgreSQL's default scans the whole table here.
    assert "Seq Scan on snapshot_value" in await _plan(pool, ids[0], ids[3], page_cost=4.0)
    for _ in range(5):  # each ANALYZE draws a new sample, and so new estimates
        async with connection(pool) as conn:
            await conn.execute("ANALYZE snapshot_value")
        plan = await _plan(pool, ids[0], ids[3])
        assert "Seq Scan on snapshot_value" not in plan, plan
        assert plan.count("snapshot_value_pkey") >= 2, plan
