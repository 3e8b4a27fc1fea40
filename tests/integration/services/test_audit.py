"""The audit trail: rows written in the caller's transaction, paged newest first with filters and a total."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from squirrel.db.pool import connection
from squirrel.model import Principal
from squirrel.services import audit
from squirrel.services.context import ServiceContext

ANN = Principal(name="ann", scopes=frozenset({"admin"}))
BEN = Principal(name="ben", scopes=frozenset({"write"}))


async def _record_some(ctx: ServiceContext) -> None:
    async with connection(ctx.pool) as conn:
        await audit.record(conn, ANN, "pv.create", "pv", 42, "first")
        await audit.record(conn, BEN, "pv.delete", "pv", None, "second")
        await audit.record(conn, ANN, "pv.delete", "pv", "abc", "third")


async def test_entries_are_listed_newest_first_with_their_fields(ctx: ServiceContext) -> None:
    assert await audit.list_entries(ctx, None, None, None, 10, 0) == ([], 0)
    await _record_some(ctx)
    entries, total = await audit.list_entries(ctx, None, None, None, 10, 0)
    assert total == 3
    assert [(e.actor, e.action, e.resource_type, e.resource_id, e.summary) for e in entries] == [
        ("ann", "pv.delete", "pv", "abc", "third"),
        ("ben", "pv.delete", "pv", None, "second"),
        ("ann", "pv.create", "pv", "42", "first"),  # any id is stored as text
    ]
    assert entries[0].id > entries[2].id and entries[0].at.tzinfo is not None


async def test_filters_and_paging_keep_the_total_of_the_filter(ctx: ServiceContext) -> None:
    await _record_some(ctx)
    ann, total = await audit.list_entries(ctx, None, "ann", None, 10, 0)
    assert (total, [e.summary for e in ann]) == (2, ["third", "first"])
    deletes, total = await audit.list_entries(ctx, None, None, "pv.delete", 1, 1)
    assert (total, [e.summary for e in deletes]) == (2, ["second"])
    both, total = await audit.list_entries(ctx, None, "ben", "pv.delete", 10, 0)
    assert (total, [e.summary for e in both]) == (1, ["second"])
    past, total = await audit.list_entries(ctx, None, None, None, 10, 5)
    assert (past, total) == ([], 3)
    future = datetime.now(UTC) + timedelta(hours=1)
    assert await audit.list_entries(ctx, future, None, None, 10, 0) == ([], 0)
    recent, total = await audit.list_entries(ctx, datetime.now(UTC) - timedelta(hours=1), None, None, 10, 0)
    assert total == 3 and len(recent) == 3
    assert await audit.list_entries(ctx, None, "nobody", None, 10, 0) == ([], 0)


async def test_a_long_summary_is_cut_to_2000_characters(ctx: ServiceContext) -> None:
    async with connection(ctx.pool) as conn:
        await audit.record(conn, ANN, "tag.bulk_import", "tag_group", summary="s" * 5000)
    [entry], _ = await audit.list_entries(ctx, None, None, None, 10, 0)
    assert entry.summary == "s" * 2000 and entry.resource_id is None


async def test_a_rolled_back_change_leaves_no_audit_row(ctx: ServiceContext) -> None:
    with pytest.raises(RuntimeError):
        async with connection(ctx.pool) as conn:
            await audit.record(conn, ANN, "pv.create", "pv", 1, "never committed")
            raise RuntimeError("the change failed after its audit row was written")
    assert await audit.list_entries(ctx, None, None, None, 10, 0) == ([], 0)
