"""Schedule rows: insert/get/list/update/delete, due (enabled, come, locked SKIP LOCKED) and mark_run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from squirrel.db import schedules as schedules_db
from squirrel.db.pool import SquirrelPool, connection
from squirrel.errors import ConflictError


def _values(name: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": name,
        "cron": "0 * * * *",
        "timezone": "UTC",
        "title": f"{name} snapshot",
        "description": None,
        "pv_ids": None,
        "tag_ids": None,
        "use_cache": True,
        "enabled": True,
        "next_run_at": datetime.now(UTC) + timedelta(hours=1),
        "created_by": "tester",
    }
    values.update(overrides)
    return values


async def test_insert_get_and_list_sorted_by_name_case_insensitively(pool: SquirrelPool) -> None:
    pv_ids = [uuid4(), uuid4()]
    async with connection(pool) as conn:
        b = await schedules_db.insert(conn, _values("beta", pv_ids=pv_ids, use_cache=False))
        a = await schedules_db.insert(conn, _values("Alpha", description="hourly"))
        assert (b["pv_ids"], b["use_cache"], b["last_run_at"]) == (pv_ids, False, None)
        got = await schedules_db.get(conn, a["id"])
        assert got == a
        locked = await schedules_db.get(conn, a["id"], for_update=True)
        assert locked == a
        assert [r["name"] for r in await schedules_db.list_all(conn)] == ["Alpha", "beta"]


async def test_missing_schedule_reads_updates_and_deletes_as_none(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        missing = uuid4()
        assert await schedules_db.get(conn, missing) is None
        assert await schedules_db.get(conn, missing, for_update=True) is None
        assert await schedules_db.update(conn, missing, _values("x")) is None
        assert await schedules_db.delete(conn, missing) is None
        assert await schedules_db.list_all(conn) == []


async def test_update_replaces_every_field_and_delete_returns_the_name(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        row = await schedules_db.insert(conn, _values("nightly"))
        values = _values("Nightly 2", cron="0 3 * * *", timezone="Europe/Berlin", enabled=False, tag_ids=[uuid4()])
        updated = await schedules_db.update(conn, row["id"], values)
        assert updated is not None
        assert {k: updated[k] for k in ("name", "cron", "timezone", "enabled", "tag_ids")} == {
            k: values[k] for k in ("name", "cron", "timezone", "enabled", "tag_ids")
        }
        assert await schedules_db.delete(conn, row["id"]) == {"id": row["id"], "name": "Nightly 2"}
        assert await schedules_db.get(conn, row["id"]) is None


async def test_names_are_unique_case_insensitively(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        await schedules_db.insert(conn, _values("Daily"))
    with pytest.raises(ConflictError):
        async with connection(pool) as conn:
            await schedules_db.insert(conn, _values("DAILY"))


async def test_due_lists_enabled_schedules_whose_time_has_come_oldest_first(pool: SquirrelPool) -> None:
    now = datetime.now(UTC)
    async with connection(pool) as conn:
        late = await schedules_db.insert(conn, _values("late", next_run_at=now - timedelta(minutes=5)))
        later = await schedules_db.insert(conn, _values("later", next_run_at=now - timedelta(minutes=10)))
        await schedules_db.insert(conn, _values("future", next_run_at=now + timedelta(hours=1)))
        await schedules_db.insert(conn, _values("off", enabled=False, next_run_at=now - timedelta(hours=1)))
        await schedules_db.insert(conn, _values("never", next_run_at=None))
        due = await schedules_db.due(conn)
    assert [r["id"] for r in due] == [later["id"], late["id"]]
    assert due[0]["created_by"] == "tester"  # the job is run on behalf of its creator


async def test_due_skips_rows_another_worker_holds(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        await schedules_db.insert(conn, _values("one", next_run_at=datetime.now(UTC) - timedelta(minutes=1)))
    async with connection(pool) as first:
        taken = await schedules_db.due(first)
        assert len(taken) == 1
        async with connection(pool) as second:
            assert await schedules_db.due(second) == []  # locked by the first transaction


async def test_mark_run_moves_the_schedule_out_of_due(pool: SquirrelPool) -> None:
    now = datetime.now(UTC)
    async with connection(pool) as conn:
        row = await schedules_db.insert(conn, _values("run", next_run_at=now - timedelta(minutes=1)))
        following = now + timedelta(hours=1)
        await schedules_db.mark_run(conn, row["id"], now, following)
        got = await schedules_db.get(conn, row["id"])
        assert got is not None and (got["last_run_at"], got["next_run_at"]) == (now, following)
        assert await schedules_db.due(conn) == []
