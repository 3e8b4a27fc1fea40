"""Schedules: strict cron and time zone, next run computed in the zone, and the loop that queues due runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from squirrel.db.pool import connection
from squirrel.errors import NotFoundError, ValidationError
from squirrel.model import NewScheduleBody, Principal, UpdateScheduleBody
from squirrel.services import audit, jobs, schedules
from squirrel.services.context import ServiceContext

BOB = Principal(name="bob", scopes=frozenset({"write"}))


def test_cron_is_normalised_and_must_have_five_valid_fields() -> None:
    assert schedules.check_cron("  0   6 * *  1-5 ") == "0 6 * * 1-5"
    for bad in ("", "* * * *", "0 0 * * * *", "61 * * * *", "every day"):
        with pytest.raises(ValidationError, match="valid 5-field cron expression"):
            schedules.check_cron(bad)


def test_time_zones_are_iana_names() -> None:
    assert str(schedules.check_timezone("Europe/Berlin")) == "Europe/Berlin"
    for bad in ("Mars/Olympus", "Europe", "../etc/passwd", "x" * 300, ""):
        with pytest.raises(ValidationError, match="IANA time zone"):
            schedules.check_timezone(bad)


def test_the_next_run_is_strictly_after_and_follows_the_zone() -> None:
    after = datetime(2025, 1, 15, 5, 0, tzinfo=UTC)  # 06:00 in Berlin (CET, UTC+1)
    assert schedules.next_run("0 6 * * *", "UTC", after) == datetime(2025, 1, 15, 6, 0, tzinfo=UTC)
    # 06:00 Berlin is exactly `after`: strictly after means the next day.
    assert schedules.next_run("0 6 * * *", "Europe/Berlin", after) == datetime(2025, 1, 16, 5, 0, tzinfo=UTC)
    summer = datetime(2025, 7, 1, 0, 0, tzinfo=UTC)  # CEST, UTC+2
    assert schedules.next_run("0 6 * * *", "Europe/Berlin", summer) == datetime(2025, 7, 1, 4, 0, tzinfo=UTC)
    assert schedules.next_run("0 6 * * *", "UTC", after).tzinfo == UTC


async def _make(ctx: ServiceContext, **kw: object) -> UUID:
    body = NewScheduleBody(**{"name": "nightly", "cron": "0 3 * * *", "title": "Nightly", **kw})  # type: ignore[arg-type]
    return (await schedules.create(ctx, body, BOB)).id


async def test_a_schedule_is_created_read_listed_and_audited(ctx: ServiceContext) -> None:
    before = datetime.now(UTC)
    body = NewScheduleBody(name=" nightly ", cron="0  3 * * *", title=" Nightly ", timezone="Europe/Berlin")
    made = await schedules.create(ctx, body, BOB)
    assert (made.name, made.cron, made.title, made.timezone) == ("nightly", "0 3 * * *", "Nightly", "Europe/Berlin")
    assert made.enabled and made.use_cache and made.last_run_at is None
    assert made.next_run_at == schedules.next_run("0 3 * * *", "Europe/Berlin", before)
    assert await schedules.get(ctx, made.id) == made
    assert await schedules.list_all(ctx) == [made]
    entries, _ = await audit.list_entries(ctx, None, "bob", None, 10, 0)
    assert [(e.action, e.summary) for e in entries] == [("schedule.create", "'nightly' 0 3 * * *")]


async def test_a_disabled_schedule_has_no_next_run(ctx: ServiceContext) -> None:
    sid = await _make(ctx, enabled=False)
    assert (await schedules.get(ctx, sid)).next_run_at is None
    enabled = await schedules.update(ctx, sid, UpdateScheduleBody(enabled=True), BOB)
    assert enabled.next_run_at is not None and enabled.next_run_at > datetime.now(UTC)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": " "}, "name must be 1..255 characters"),
        ({"title": "t" * 256}, "title must be 1..255 characters"),
        ({"cron": "@daily"}, "5-field cron"),
        ({"timezone": "Nowhere/Town"}, "IANA time zone"),
        ({"description": "d" * 1_000_001}, "description must be at most"),
    ],
)
async def test_bad_schedules_are_refused(ctx: ServiceContext, fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        await _make(ctx, **fields)
    assert await schedules.list_all(ctx) == []


async def test_an_update_merges_the_given_fields_and_recomputes_the_next_run(ctx: ServiceContext) -> None:
    tag = uuid4()
    sid = await _make(ctx, description="keep me", use_cache=False)
    updated = await schedules.update(ctx, sid, UpdateScheduleBody(cron="30 * * * *", tags=[tag]), BOB)
    assert (updated.name, updated.title, updated.description, updated.use_cache) == (
        "nightly",
        "Nightly",
        "keep me",
        False,
    )
    assert updated.cron == "30 * * * *" and updated.tags == [tag]
    assert updated.next_run_at is not None and updated.next_run_at.minute == 30
    with pytest.raises(ValidationError, match="cron"):
        await schedules.update(ctx, sid, UpdateScheduleBody(cron="nope"), BOB)
    assert (await schedules.get(ctx, sid)).cron == "30 * * * *"  # a refused update changes nothing


async def test_unknown_schedules_are_not_found_and_delete_removes(ctx: ServiceContext) -> None:
    missing = uuid4()
    with pytest.raises(NotFoundError, match=f"schedule {missing} not found"):
        await schedules.get(ctx, missing)
    with pytest.raises(NotFoundError, match=f"schedule {missing} not found"):
        await schedules.update(ctx, missing, UpdateScheduleBody(name="x"), BOB)
    with pytest.raises(NotFoundError, match=f"schedule {missing} not found"):
        await schedules.delete(ctx, missing, BOB)
    sid = await _make(ctx)
    assert (await schedules.delete(ctx, sid, BOB)).id == sid
    assert await schedules.list_all(ctx) == []
    with pytest.raises(NotFoundError):
        await schedules.delete(ctx, sid, BOB)


async def _make_due(ctx: ServiceContext, sid: UUID, at: datetime) -> None:
    async with connection(ctx.pool) as conn:
        await conn.execute("UPDATE schedule SET next_run_at = %s WHERE id = %s", (at, sid))


async def test_due_schedules_are_queued_once_and_moved_to_their_next_run(queued_ctx: ServiceContext) -> None:
    ctx = queued_ctx
    assert await schedules.run_due_schedules(ctx) == 0
    due = await _make(ctx)
    idle = await _make(ctx, name="idle", enabled=False)
    await _make(ctx, name="later")  # enabled, next run in the future
    missed = datetime.now(UTC) - timedelta(days=2)
    await _make_due(ctx, due, missed)
    await _make_due(ctx, idle, missed)  # disabled: never due
    assert await schedules.run_due_schedules(ctx) == 1
    [job] = await jobs.list_jobs(ctx, None, "snapshot_create", 10)
    assert (job.status, job.created_by) == ("pending", "schedule:nightly")
    assert job.job_data["title"] == "Nightly" and job.job_data["labels"] == ["scheduled"]
    ran = await schedules.get(ctx, due)
    assert ran.last_run_at == missed
    # Missed runs collapse: the next run is after now, not a day after the missed one.
    assert ran.next_run_at is not None and ran.next_run_at > datetime.now(UTC)
    assert await schedules.run_due_schedules(ctx) == 0
    # The same run time again (e.g. a second worker) reuses the job keyed schedule:<id>:<run time>.
    await _make_due(ctx, due, missed)
    assert await schedules.run_due_schedules(ctx) == 1
    assert len(await jobs.list_jobs(ctx, None, None, 10)) == 1


async def test_a_run_that_cannot_be_queued_is_skipped_and_the_schedule_goes_on(ctx: ServiceContext) -> None:
    assert ctx.queue is None  # enqueueing fails: the job queue is not running here
    sid = await _make(ctx)
    await _make_due(ctx, sid, datetime.now(UTC) - timedelta(minutes=1))
    assert await schedules.run_due_schedules(ctx) == 1
    after = await schedules.get(ctx, sid)
    assert after.last_run_at is not None and after.next_run_at is not None and after.next_run_at > datetime.now(UTC)
    assert await jobs.list_jobs(ctx, None, None, 10) == []
