"""The one set of row helpers every repository uses, against real PostgreSQL."""

from __future__ import annotations

from uuid import UUID, uuid4

from squirrel.db import health as health_db
from squirrel.db import restore as restore_db
from squirrel.db import rows as r
from squirrel.db.pool import SquirrelPool, connection
from squirrel.db.queries import q


async def test_fetch_helpers_on_a_named_query(pool: SquirrelPool) -> None:
    """tags_of_groups / all_tags are plain named queries: rows as dicts, tuples, one, scalar."""
    async with connection(pool) as conn:
        await conn.execute("INSERT INTO tag_group (name) VALUES ('g1'), ('g2')")
        groups = await r.fetch_all(conn, "list_tag_groups")
        assert sorted(g["name"] for g in groups) == ["g1", "g2"]
        first = await r.fetch_one(conn, "get_tag_group", {"id": groups[0]["id"]})
        assert first is not None and first["name"] == groups[0]["name"]
        assert await r.fetch_one(conn, "get_tag_group", {"id": "00000000-0000-0000-0000-000000000000"}) is None
        tuples = await r.fetch_tuples(conn, "groups_by_lower_names", {"names": ["g1"]})
        assert len(tuples) == 1 and isinstance(tuples[0], tuple)
        assert await r.fetch_scalar(conn, "health_ping") == 1


async def _snapshot(conn: r.Conn) -> UUID:
    snap_id = uuid4()
    await conn.execute(
        "INSERT INTO snapshot (id, title, created_by, source, pv_count) VALUES (%s, 's', 't', 'direct', 0)", [snap_id]
    )
    return snap_id


async def test_execute_returns_the_rowcount(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        snap_id = await _snapshot(conn)
        assert await r.execute(conn, "delete_snapshot", {"id": snap_id}) == 1
        assert await r.execute(conn, "delete_snapshot", {"id": snap_id}) == 0


async def test_copy_rows_through_record_items(pool: SquirrelPool) -> None:
    """copy_restore_items is a typed binary COPY (copy_rows): NULLs and booleans survive."""
    job_id, pv_a, pv_b = uuid4(), uuid4(), uuid4()
    async with connection(pool) as conn:
        await conn.execute(
            "INSERT INTO job (id, type, job_data, created_by, saq_key) VALUES (%s, 'snapshot_restore', '{}', 't', 'k')",
            [job_id],
        )
        snap_id = await _snapshot(conn)
        assert await restore_db.ensure_run(conn, job_id, snap_id) is None
        await restore_db.record_items(conn, job_id, [(pv_a, "written", None, True), (pv_b, "failed", "nope", False)])
        done = await restore_db.done_items(conn, job_id)
    assert done == {pv_a: ("written", None, True), pv_b: ("failed", "nope", False)}


async def test_health_ping(pool: SquirrelPool) -> None:
    assert "SELECT 1" in q("health_ping")
    async with connection(pool) as conn:
        await health_db.ping(conn)
