"""/v1/snapshots: create (job or inline), list, read, update, delete, compare, export, import."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream

from squirrel.api.common import (
    UUID_ITEMS,
    check_offset,
    check_page,
    ctx_of,
    limit_param,
    offset_param,
    path_uuid,
    principal_of,
    query_uuids,
)
from squirrel.model import (
    CompareResultDTO,
    DeletedDTO,
    JobQueued,
    NewSnapshotBody,
    SnapshotDTO,
    SnapshotSummaryDTO,
    UpdateSnapshotBody,
)
from squirrel.services import compare as compare_service
from squirrel.services import snapshot_io, snapshot_read
from squirrel.services import snapshots as snap_service
from squirrel.services.snapshot_io import ExportDocument

BULK_LIMIT = 64_000_000
_TOL = "overrides every PV's tolerance"
_IMPORT_TITLE = "title of the new snapshot (default: the file's; a CSV has none: 'Imported CSV')"
_CSV_TYPES = {"text/csv", "application/csv", "application/vnd.ms-excel", "text/plain"}
_CSV_TEXT = {"type": "string", "description": "the CSV export (Phoebus save-and-restore columns)"}
_EXPORT_REF = {"$ref": "#/components/schemas/ExportDocument"}
# The import reads its body itself (either export, by content type): the schema says what it takes.
_IMPORT_BODY = {
    "required": True,
    "content": {"application/json": {"schema": _EXPORT_REF}, "text/csv": {"schema": _CSV_TEXT}},
}


def _import_format(request: Request[Any, Any, Any], raw: bytes) -> Literal["csv", "json"]:
    """The export an import body is, by its content type (none given: a body starting with '{' is JSON)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in _CSV_TYPES:
        return "csv"
    if media == "application/json" or media.endswith("+json"):
        return "json"
    if not media:
        return "json" if raw.lstrip()[:1] == b"{" else "csv"
    raise HTTPException(
        status_code=415, detail=f"send the snapshot as application/json or text/csv (an export), not {media!r}"
    )


class SnapshotsController(Controller):
    path = "/v1/snapshots"
    tags = ["snapshots"]

    @get("/", summary="Snapshots, newest first")
    async def list_snapshots(
        self,
        request: Request[Any, Any, Any],
        title: Annotated[str | None, QueryParameter(description="substring of the title")] = None,
        tags: Annotated[
            list[str] | None, QueryParameter(description="tag ids: a PV carried one", schema_extra=UUID_ITEMS)
        ] = None,
        labels: Annotated[list[str] | None, QueryParameter(description="snapshot labels (any)")] = None,
        limit: Annotated[int | None, limit_param()] = None,
        offset: Annotated[int | None, offset_param()] = None,
    ) -> list[SnapshotSummaryDTO]:
        label_list = [p.strip() for raw in labels or [] for p in raw.split(",") if p.strip()]
        return await snap_service.list_snapshots(
            ctx_of(request), title, query_uuids("tags", tags), label_list, check_page("limit", limit, 100),
            check_offset(offset),
        )  # fmt: skip

    @post(
        "/",
        summary="Take a snapshot",
        description="async=true (default): 202 {jobId, message}; async=false: 201 with the summary. PVs = union "
        "of pvIds and PVs carrying any of the tag ids in tags; every PV when neither is given. use_cache=false "
        "reads the PVs directly instead of the monitor cache.",
        responses={
            201: ResponseSpec(SnapshotSummaryDTO, description="async=false: the snapshot", generate_examples=False),
            202: ResponseSpec(JobQueued, description="async=true: the job was queued", generate_examples=False),
        },
    )
    async def create_snapshot(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[NewSnapshotBody],
        run_async: Annotated[bool, QueryParameter(name="async")] = True,
        use_cache: Annotated[bool, QueryParameter(name="use_cache")] = True,
    ) -> Response[JobQueued | SnapshotSummaryDTO]:
        ctx = ctx_of(request)
        actor = principal_of(request)
        spec = snap_service.spec_from_body(data, use_cache, actor)
        if run_async:
            return Response(await snap_service.enqueue(ctx, spec, actor), status_code=202)
        return Response(await snap_service.create_inline(ctx, spec, actor), status_code=201)

    @post(
        "/import",
        summary="Import a snapshot from either export (JSON or CSV, by content type)",
        description="application/json: the JSON export, exact. text/csv: the CSV export (Phoebus columns), "
        "which cannot carry the snapshot's title, id, description and labels (title: ?title=, else 'Imported "
        "CSV'), PV ids (found in the registry by address; others get a stable id), units, precision, limits, "
        "the readback's own time and alarm (the row's apply to both sides), or an enum's index (taken from "
        "the live cache's labels when the address is monitored); array elements are written [a, b, c]. A file "
        "whose snapshot exists here (the one it was exported from, an earlier import of it, or a snapshot "
        "with the same title and values, EPICS times included) answers 409 naming it in existingId.",
        request_max_body_size=BULK_LIMIT,
        status_code=201,
        opt={"request_body": _IMPORT_BODY},
    )
    async def import_snapshot(
        self,
        request: Request[Any, Any, Any],
        title: Annotated[str | None, QueryParameter(description=_IMPORT_TITLE)] = None,
    ) -> SnapshotSummaryDTO:
        raw = await request.body()
        ctx, actor = ctx_of(request), principal_of(request)
        if _import_format(request, raw) == "csv":
            return await snapshot_io.import_csv(ctx, raw, actor, title)
        return await snapshot_io.import_json(ctx, raw, actor, title)

    @get(
        "/{snapshot_id:str}",
        summary="A snapshot with its values (no limit: all values)",
        responses={200: ResponseSpec(SnapshotDTO, description="the snapshot (streamed)", generate_examples=False)},
    )
    async def get_snapshot(
        self,
        request: Request[Any, Any, Any],
        snapshot_id: FromPath[str],
        limit: Annotated[int | None, limit_param(doc="absent = every value")] = None,
        offset: Annotated[int | None, offset_param()] = None,
    ) -> Stream:
        if limit is not None:
            check_page("limit", limit, 1000)
        body = await snapshot_read.snapshot_body(
            ctx_of(request), path_uuid(snapshot_id, "snapshot"), limit, check_offset(offset)
        )
        return Stream(body, media_type="application/json")

    @put("/{snapshot_id:str}", summary="Update title, description, comment, labels ('golden' needs admin)")
    async def update_snapshot(
        self, request: Request[Any, Any, Any], snapshot_id: FromPath[str], data: JSONBody[UpdateSnapshotBody]
    ) -> SnapshotSummaryDTO:
        return await snap_service.update(
            ctx_of(request), path_uuid(snapshot_id, "snapshot"), data, principal_of(request)
        )

    @delete("/{snapshot_id:str}", status_code=200, summary="Delete a snapshot (a 'golden' one needs admin)")
    async def delete_snapshot(self, request: Request[Any, Any, Any], snapshot_id: FromPath[str]) -> DeletedDTO:
        return await snap_service.delete(ctx_of(request), path_uuid(snapshot_id, "snapshot"), principal_of(request))

    @get("/{snapshot_id:str}/compare/live", summary="Compare stored values with the live cache")
    async def compare_live(
        self,
        request: Request[Any, Any, Any],
        snapshot_id: FromPath[str],
        abs_tolerance: Annotated[float | None, QueryParameter(name="absTolerance", description=_TOL)] = None,
        rel_tolerance: Annotated[float | None, QueryParameter(name="relTolerance", description=_TOL)] = None,
    ) -> CompareResultDTO:
        sid = path_uuid(snapshot_id, "snapshot")
        return await compare_service.compare_live(ctx_of(request), sid, abs_tolerance, rel_tolerance)

    @get("/{snapshot_id:str}/compare/{second_id:str}", summary="Compare two snapshots")
    async def compare_snapshots(
        self,
        request: Request[Any, Any, Any],
        snapshot_id: FromPath[str],
        second_id: FromPath[str],
        abs_tolerance: Annotated[float | None, QueryParameter(name="absTolerance", description=_TOL)] = None,
        rel_tolerance: Annotated[float | None, QueryParameter(name="relTolerance", description=_TOL)] = None,
    ) -> CompareResultDTO:
        first = path_uuid(snapshot_id, "snapshot")
        second = path_uuid(second_id, "snapshot")
        return await compare_service.compare_snapshots(ctx_of(request), first, second, abs_tolerance, rel_tolerance)

    @get(
        "/{snapshot_id:str}/export",
        summary="Export a snapshot (csv: Phoebus save-and-restore columns; json)",
        responses={200: ResponseSpec(ExportDocument, description="format=json; format=csv: text/csv")},
        opt={"extra_media": {"text/csv": _CSV_TEXT}},
    )
    async def export_snapshot(
        self,
        request: Request[Any, Any, Any],
        snapshot_id: FromPath[str],
        fmt: Annotated[Literal["csv", "json"], QueryParameter(name="format")] = "json",
    ) -> Response[bytes]:
        sid = path_uuid(snapshot_id, "snapshot")
        ctx = ctx_of(request)
        if fmt == "csv":
            body, media, ext = await snapshot_io.export_csv(ctx, sid), "text/csv", "csv"
        else:
            body, media, ext = await snapshot_io.export_json(ctx, sid), "application/json", "json"
        return Response(
            body, media_type=media, headers={"Content-Disposition": f'attachment; filename="snapshot-{sid}.{ext}"'}
        )


__all__ = ["SnapshotDTO", "SnapshotsController"]
