"""POST /v1/snapshots/{id}/restore: a dry-run plan (read scope) or a queued restore job (restore scope)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from squirrel.api.common import path_uuid, principal_of
from squirrel.api.deps import CtxDep
from squirrel.model import JobQueued, RestorePlan, RestoreRequest
from squirrel.services.restore import job as restore_service


@post(
    "/v1/snapshots/{snapshot_id:str}/restore",
    tags=["snapshots"],
    # Executing needs the restore scope; the guard lowers it to read for dryRun=true.
    opt={"scope": "restore", "read_scope_query": "dryRun"},
    summary="Restore a snapshot (dryRun=true: the plan only)",
    description=(
        "With dryRun=true (read scope) answers 200 with the plan {snapshotId, counts, items[{pvId, pvName, "
        "action, currentValue, targetValue, reason}]}, read from live state; actions: write, equal (within "
        "tolerance of the target, whether or not skipEqual skips it), read_only, disconnected (channel "
        "disconnected or its IOC's circuit open; reason says which), no_value, not_in_registry, out_of_limits. "
        "Otherwise (restore scope) queues a restore job and answers 202 {jobId, message}; 409 with jobId while "
        "another restore is queued or running. The job ends completed only when no PV failed (failureCount = "
        "mismatch + disconnected + timeout + failed + out_of_limits); otherwise failed, with error giving the "
        "counts and result kept in full. result.changedCount counts PVs written whose live value differed from "
        "the target. pvIds [] or ids not in the snapshot are 400. An absent body means every PV with the "
        "default options."
    ),
    status_code=202,
    responses={
        200: ResponseSpec(RestorePlan, description="dryRun=true: the plan", generate_examples=False),
        202: ResponseSpec(JobQueued, description="the restore job was queued", generate_examples=False),
    },
)
async def restore_snapshot(
    request: Request[Any, Any, Any],
    ctx: CtxDep,
    snapshot_id: FromPath[str],
    data: JSONBody[RestoreRequest | None] = None,
    dry_run: Annotated[bool, QueryParameter(name="dryRun")] = False,
) -> Response[RestorePlan | JobQueued]:
    principal = principal_of(request)
    sid = path_uuid(snapshot_id, "snapshot")
    body = data or RestoreRequest()
    if dry_run:
        return Response(await restore_service.dry_run(ctx, sid, body), status_code=200)
    return Response(await restore_service.start(ctx, principal, sid, body), status_code=202)


ROUTES = [restore_snapshot]
