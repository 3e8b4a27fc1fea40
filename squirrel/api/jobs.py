"""/v1/jobs: the job record (list, get, cancel) and its progress as Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, delete, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from squirrel.api.common import check_page, limit_param, path_uuid, principal_of
from squirrel.api.deps import CtxDep
from squirrel.api.revocation import until_revoked
from squirrel.model import JobDTO
from squirrel.services import jobs as jobs_service
from squirrel.services.context import ServiceContext

_encode = msgspec.json.Encoder().encode


async def _sse(ctx: ServiceContext, job_id: UUID) -> AsyncIterator[bytes]:
    n = 0
    async for event, job in jobs_service.job_events(ctx, job_id):
        n += 1
        yield b"id: %d\nevent: %s\ndata: %s\n\n" % (n, event.encode(), _encode(job))


class JobsController(Controller):
    path = "/v1/jobs"
    tags = ["jobs"]

    @get("/", summary="Recent jobs, newest first")
    async def list_jobs(
        self,
        ctx: CtxDep,
        status: Annotated[
            str | None, QueryParameter(description="job status", schema_extra={"enum": list(jobs_service.JOB_STATUSES)})
        ] = None,
        job_type: Annotated[
            str | None,
            QueryParameter(name="type", description="job type", schema_extra={"enum": list(jobs_service.JOB_TYPES)}),
        ] = None,
        limit: Annotated[int | None, limit_param()] = None,
    ) -> list[JobDTO]:
        return await jobs_service.list_jobs(ctx, status, job_type, check_page("limit", limit, 100))

    @get("/{job_id:str}", summary="One job")
    async def get_job(self, ctx: CtxDep, job_id: FromPath[str]) -> JobDTO:
        return await jobs_service.get_job(ctx, path_uuid(job_id, "job"))

    @delete(
        "/{job_id:str}",
        status_code=200,
        opt={"scope": "read"},
        summary="Cancel a pending or running job",
        description="Needs the write scope (restore scope for restore jobs); 409 when the job already finished.",
    )
    async def cancel_job(self, request: Request[Any, Any, Any], ctx: CtxDep, job_id: FromPath[str]) -> JobDTO:
        return await jobs_service.cancel_job(ctx, path_uuid(job_id, "job"), principal_of(request))

    @get(
        "/{job_id:str}/events",
        opt={"scope": "read", "query_key": True},
        media_type="text/event-stream",
        summary="Job progress as Server-Sent Events",
        description="`progress` events carry the JobDTO whenever it changes; one `done` event ends the stream. "
        "The stream also ends (without `done`) when its key is revoked.",
    )
    async def job_events(self, request: Request[Any, Any, Any], ctx: CtxDep, job_id: FromPath[str]) -> Stream:
        jid = path_uuid(job_id, "job")
        await jobs_service.get_job(ctx, jid)  # 404 before the stream starts
        return Stream(
            until_revoked(request, _sse(ctx, jid)),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
