"""/v1/schedules: cron-driven snapshots (write scope to change)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody

from squirrel.api.common import ctx_of, path_uuid, principal_of
from squirrel.model import DeletedDTO, NewScheduleBody, ScheduleDTO, UpdateScheduleBody
from squirrel.services import schedules as sched_service


class SchedulesController(Controller):
    path = "/v1/schedules"
    tags = ["schedules"]

    @get("/", summary="Every schedule")
    async def list_schedules(self, request: Request[Any, Any, Any]) -> list[ScheduleDTO]:
        return await sched_service.list_all(ctx_of(request))

    @post("/", summary="Create a schedule (cron: 5 fields; timezone: IANA name, default UTC)")
    async def create_schedule(self, request: Request[Any, Any, Any], data: JSONBody[NewScheduleBody]) -> ScheduleDTO:
        return await sched_service.create(ctx_of(request), data, principal_of(request))

    @get("/{schedule_id:str}", summary="One schedule")
    async def get_schedule(self, request: Request[Any, Any, Any], schedule_id: FromPath[str]) -> ScheduleDTO:
        return await sched_service.get(ctx_of(request), path_uuid(schedule_id, "schedule"))

    @put("/{schedule_id:str}", summary="Update a schedule (absent fields are kept)")
    async def update_schedule(
        self, request: Request[Any, Any, Any], schedule_id: FromPath[str], data: JSONBody[UpdateScheduleBody]
    ) -> ScheduleDTO:
        return await sched_service.update(
            ctx_of(request), path_uuid(schedule_id, "schedule"), data, principal_of(request)
        )

    @delete("/{schedule_id:str}", status_code=200, summary="Delete a schedule")
    async def delete_schedule(self, request: Request[Any, Any, Any], schedule_id: FromPath[str]) -> DeletedDTO:
        return await sched_service.delete(ctx_of(request), path_uuid(schedule_id, "schedule"), principal_of(request))
