"""Scheduled snapshots: CRUD, and the worker's loop that turns due schedules into snapshot jobs.

SAQ's CronJobs are fixed at worker start, so schedules kept in the database run from our own loop.
Each run is enqueued with the key schedule:<id>:<run time>: two instances never double-run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import structlog
from croniter import croniter

from squirrel.db import schedules as sched_db
from squirrel.db.pool import connection
from squirrel.db.rows import Row, as_struct
from squirrel.errors import NotFoundError, SquirrelError, ValidationError
from squirrel.model import DeletedDTO, NewScheduleBody, Principal, ScheduleDTO, UpdateScheduleBody
from squirrel.services import audit
from squirrel.services._common import found
from squirrel.services.context import ServiceContext
from squirrel.services.snapshots import take as snap_service

log = structlog.get_logger(__name__)


def check_cron(cron: str) -> str:
    clean = " ".join(cron.split())
    if len(clean.split(" ")) != 5 or not croniter.is_valid(clean):
        raise ValidationError(
            f"cron must be a valid 5-field cron expression (min hour day month weekday), got {cron!r}"
        )
    return clean


def check_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    # ZoneInfo raises OSError for names that are folders or too long for the file system.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(f"timezone must be an IANA time zone name (e.g. Europe/Berlin), got {name!r}") from None


def next_run(cron: str, timezone: str, after: datetime) -> datetime:
    """The first run strictly after `after`, in UTC."""
    local = after.astimezone(check_timezone(timezone))
    nxt: datetime = croniter(cron, local).get_next(datetime)
    return nxt.astimezone(UTC)


def _dto(row: Row) -> ScheduleDTO:
    return as_struct(ScheduleDTO, row, tags=row["tag_ids"])


def _name(value: str, field: str) -> str:
    clean = value.strip()
    if not clean or len(clean) > 255:
        raise ValidationError(f"{field} must be 1..255 characters")
    return clean


def _values(v: dict[str, Any]) -> dict[str, Any]:
    v["name"] = _name(v["name"], "name")
    v["title"] = _name(v["title"], "title")
    v["cron"] = check_cron(v["cron"])
    check_timezone(v["timezone"])
    if v["description"] is not None and len(v["description"]) > snap_service.MAX_TEXT:
        raise ValidationError(f"description must be at most {snap_service.MAX_TEXT:,} characters")
    v["next_run_at"] = next_run(v["cron"], v["timezone"], datetime.now(UTC)) if v["enabled"] else None
    return v


async def create(ctx: ServiceContext, body: NewScheduleBody, actor: Principal) -> ScheduleDTO:
    values = _values(
        {
            "name": body.name,
            "cron": body.cron,
            "timezone": body.timezone,
            "title": body.title,
            "description": body.description,
            "pv_ids": body.pv_ids,
            "tag_ids": body.tags,
            "use_cache": body.use_cache,
            "enabled": body.enabled,
        }
    )
    async with connection(ctx.pool) as conn:
        row = await sched_db.insert(conn, {**values, "created_by": actor.name})
        await audit.record(conn, actor, "schedule.create", "schedule", row["id"], f"'{row['name']}' {row['cron']}")
    return _dto(row)


async def get(ctx: ServiceContext, schedule_id: UUID) -> ScheduleDTO:
    async with connection(ctx.pool) as conn:
        row = await sched_db.get(conn, schedule_id)
    return _dto(found(row, f"schedule {schedule_id}"))


async def list_all(ctx: ServiceContext) -> list[ScheduleDTO]:
    async with connection(ctx.pool) as conn:
        return [_dto(r) for r in await sched_db.list_all(conn)]


async def update(ctx: ServiceContext, schedule_id: UUID, body: UpdateScheduleBody, actor: Principal) -> ScheduleDTO:
    async with connection(ctx.pool) as conn:
        row = await sched_db.get(conn, schedule_id, for_update=True)
        if row is None:
            raise NotFoundError(f"schedule {schedule_id} not found")
        merged = {k: row[k] for k in ("name", "cron", "timezone", "title", "description", "pv_ids", "tag_ids")}
        merged.update(use_cache=row["use_cache"], enabled=row["enabled"])
        for field in msgspec.structs.fields(body):
            value = getattr(body, field.name)
            if value is not msgspec.UNSET:
                merged["tag_ids" if field.name == "tags" else field.name] = value
        updated = await sched_db.update(conn, schedule_id, _values(merged))
        assert updated is not None
        await audit.record(conn, actor, "schedule.update", "schedule", schedule_id, f"'{updated['name']}'")
    return _dto(updated)


async def delete(ctx: ServiceContext, schedule_id: UUID, actor: Principal) -> DeletedDTO:
    async with connection(ctx.pool) as conn:
        row = await sched_db.delete(conn, schedule_id)
        if row is None:
            raise NotFoundError(f"schedule {schedule_id} not found")
        await audit.record(conn, actor, "schedule.delete", "schedule", schedule_id, f"'{row['name']}'")
    return DeletedDTO(id=schedule_id)


async def run_due_schedules(ctx: ServiceContext) -> int:
    """Enqueue one snapshot job per due schedule; returns how many were due."""
    now = datetime.now(UTC)
    async with connection(ctx.pool) as conn:
        due = await sched_db.due(conn)
        for row in due:
            run_time: datetime = row["next_run_at"]
            spec = snap_service.SnapshotSpec(
                title=row["title"],
                description=row["description"],
                labels=["scheduled"],
                pv_ids=row["pv_ids"],
                tag_ids=row["tag_ids"],
                use_cache=row["use_cache"],
            )
            actor = Principal(name=f"schedule:{row['name']}", scopes=frozenset({"write"}))
            key = f"schedule:{row['id']}:{run_time.isoformat()}"
            try:
                await snap_service.enqueue(ctx, spec, actor, key=key)
            except SquirrelError as exc:
                # E.g. its PVs were deleted: skip this run, keep the schedule going.
                log.warning("scheduled snapshot not queued", schedule=row["name"], error=exc.detail)
            # Missed runs (e.g. while down) collapse into this one: the next run is after now.
            await sched_db.mark_run(conn, row["id"], run_time, next_run(row["cron"], row["timezone"], now))
            log.info("scheduled snapshot queued", schedule=row["name"], run_time=run_time.isoformat())
    return len(due)
