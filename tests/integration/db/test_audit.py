"""Audit rows: newest first, filtered by since / actor / action, paged with an honest total."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from squirrel.db import audit as audit_db
from squirrel.db.pool import SquirrelPool, connection
from squirrel.db.rows import Page


async def _seed(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        await audit_db.insert(conn, "alice", "pv.create", "pv", "1", "created PV 1")
        await audit_db.insert(conn, "bob", "pv.delete", "pv", "1", "deleted PV 1")
        await audit_db.insert(conn, "alice", "tag.create", "tag", None, "")


async def test_empty_log_pages_as_nothing(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        assert await audit_db.page(conn, None, None, None, Page(10, 0)) == ([], 0)


async def test_rows_come_newest_first_with_every_field(pool: SquirrelPool) -> None:
    await _seed(pool)
    async with connection(pool) as conn:
        rows, total = await audit_db.page(conn, None, None, None, Page(10, 0))
    assert total == 3
    assert [r["action"] for r in rows] == ["tag.create", "pv.delete", "pv.create"]
    last = rows[0]
    assert (last["actor"], last["resource_type"], last["resource_id"], last["summary"]) == ("alice", "tag", None, "")
    assert set(last) == {"id", "at", "actor", "action", "resource_type", "resource_id", "summary"}


async def test_filters_combine_and_the_total_counts_the_filtered_rows(pool: SquirrelPool) -> None:
    await _seed(pool)
    async with connection(pool) as conn:
        rows, total = await audit_db.page(conn, None, "alice", None, Page(10, 0))
        assert total == 2 and {r["actor"] for r in rows} == {"alice"}
        rows, total = await audit_db.page(conn, None, "alice", "pv.create", Page(10, 0))
        assert total == 1 and rows[0]["summary"] == "created PV 1"
        assert await audit_db.page(conn, None, "carol", None, Page(10, 0)) == ([], 0)
        future = datetime.now(UTC) + timedelta(hours=1)
        assert await audit_db.page(conn, future, None, None, Page(10, 0)) == ([], 0)
        past = datetime.now(UTC) - timedelta(hours=1)
        assert (await audit_db.page(conn, past, None, None, Page(10, 0)))[1] == 3


async def test_pages_split_the_rows_but_not_the_total(pool: SquirrelPool) -> None:
    await _seed(pool)
    async with connection(pool) as conn:
        first, total_1 = await audit_db.page(conn, None, None, None, Page(2, 0))
        second, total_2 = await audit_db.page(conn, None, None, None, Page(2, 2))
        beyond, total_3 = await audit_db.page(conn, None, None, None, Page(2, 10))
    assert (len(first), len(second), beyond) == (2, 1, [])
    assert total_1 == total_2 == total_3 == 3
    assert {r["id"] for r in first}.isdisjoint(r["id"] for r in second)
