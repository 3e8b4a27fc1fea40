"""Background jobs and the schedules that start them. camelCase on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec


class JobDTO(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    type: str
    status: str
    progress: int
    message: str
    result_id: UUID | None
    error: str | None
    job_data: dict[str, Any]
    result: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    created_by: str
    attempt: int
    warnings: list[str] = msgspec.field(default_factory=list)  # [] when the job did all it was asked


class JobQueued(msgspec.Struct, rename="camel", kw_only=True):
    job_id: UUID
    message: str


class ScheduleDTO(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    name: str
    cron: str
    timezone: str
    title: str
    description: str | None
    pv_ids: list[UUID] | None
    tags: list[UUID] | None
    use_cache: bool
    enabled: bool
    last_run_at: datetime | None
    next_run_at: datetime | None


class NewScheduleBody(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    name: str
    cron: str
    title: str
    timezone: str = "UTC"
    description: str | None = None
    pv_ids: list[UUID] | None = None
    tags: list[UUID] | None = None
    use_cache: bool = True
    enabled: bool = True


class UpdateScheduleBody(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    name: str | msgspec.UnsetType = msgspec.UNSET
    cron: str | msgspec.UnsetType = msgspec.UNSET
    title: str | msgspec.UnsetType = msgspec.UNSET
    timezone: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType | None = msgspec.UNSET
    pv_ids: list[UUID] | msgspec.UnsetType | None = msgspec.UNSET
    tags: list[UUID] | msgspec.UnsetType | None = msgspec.UNSET
    use_cache: bool | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET
