"""/v1/schedules: cron-driven snapshots (write scope to change)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody

from squirrel.api.common import path_uuid, principal_of
from squirrel.api.deps import CtxDep
from squirrel.model import DeletedDTO, NewScheduleBody, ScheduleDTO, UpdateScheduleBody
from squirrel.services import schedules as sched_service


class SchedulesController(Controller):
    path = "/v1/schedules"
    tags = ["schedules"]

    @get("/", summary="Every schedule")
    async def list_schedules(self, ctx: CtxDep) -> list[ScheduleDTO]:
        return await sched_service.list_all(ctx)

    @post("/", summary="Create a schedule (cron: 5 fields; timezone: IANA name, default UTC)")
    async def create_schedule(
        self, request: Request[Any, Any, Any], ctx: CtxDep, data: JSONBody[NewScheduleBody]
    ) -> ScheduleDTO:
        return await sched_service.create(ctx, data, principal_of(request))

    @get("/{schedule_id:str}", summary="One schedule")
    async def get_schedule(self, ctx: CtxDep, schedule_id: FromPath[str]) -> ScheduleDTO:
        return await sched_service.get(ctx, path_uuid(schedule_id, "schedule"))

    @put("/{schedule_id:str}", summary="Update a schedule (absent fields are kept)")
    async def update_schedule(
        self,
        request: Request[Any, Any, Any],
        ctx: CtxDep,
        schedule_id: FromPath[str],
        data: JSONBody[UpdateScheduleBody],
    ) -> ScheduleDTO:
        return await sched_service.update(ctx, path_uuid(schedule_id, "schedule"), data, principal_of(request))

    @delete("/{schedule_id:str}", status_code=200, summary="Delete a schedule")
    async def delete_schedule(
        self, request: Request[Any, Any, Any], ctx: CtxDep, schedule_id: FromPath[str]
    ) -> DeletedDTO:
        return await sched_service.delete(ctx, path_uuid(schedule_id, "schedule"), principal_of(request))
