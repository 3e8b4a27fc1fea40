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
    limit_param,
    offset_param,
    path_uuid,
    principal_of,
    query_uuids,
)
from squirrel.api.deps import CtxDep
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
from squirrel.services.snapshots import filter as snapshot_filter
from squirrel.services.snapshots import io as snapshot_io
from squirrel.services.snapshots import read as snapshot_read
from squirrel.services.snapshots import take as snap_service
from squirrel.services.snapshots.filter import SnapshotFilter
from squirrel.services.snapshots.io import ExportDocument

BULK_LIMIT = 64_000_000
_TOL = "overrides every PV's tolerance (setpoints and readbacks alike)"
_SIDE = "only the differences of this side (counts still cover all)"
_COMPARE_DESCRIPTION = (
    "One difference per differing side of a PV: {pvId, pvName, side (setpoint|readback), address (the "
    "address that side concerns), value1, value2, delta (value2 - value1 for numeric scalars, else null), "
    "reason (setpoint|readback|missing|disconnected)}, ordered by pvName then side. matchCount counts PVs "
    "whose setpoint and readback both match; differenceCount counts every difference; matchedCount the "
    "differences on the requested side; limit/offset page the differences only."
)
CompareSide = Literal["setpoint", "readback"]


def _compare_query(
    abs_tolerance: float | None,
    rel_tolerance: float | None,
    side: CompareSide | None,
    limit: int | None,
    offset: int | None,
) -> compare_service.CompareQuery:
    return compare_service.CompareQuery(
        abs_tolerance=abs_tolerance,
        rel_tolerance=rel_tolerance,
        side=side,
        limit=None if limit is None else check_page("limit", limit, 1000),
        offset=check_offset(offset),
    )


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
        ctx: CtxDep,
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
            ctx, title, query_uuids("tags", tags), label_list, check_page("limit", limit, 100),
            check_offset(offset),
        )  # fmt: skip

    @post(
        "/",
        summary="Take a snapshot",
        description="async=true (default): 202 {jobId, message}; async=false: 201 with the summary. PVs = union "
        "of pvIds and PVs carrying any of the tag ids in tags (an unknown id: 400); every PV when neither is "
        "given. A cache snapshot first waits until the monitor is warm for these PVs (each delivered its first "
        "value or has been subscribed SQUIRREL_SNAPSHOT_WARMUP s); use_cache=false reads the PVs directly, "
        "waiting for late answers until one deadline (SQUIRREL_CA_TIMEOUT). The summary (and the job's "
        "message and warnings) count the PVs saved without a value: missingCount, missing {disconnected, "
        "noValue, stale}. requireComplete=true: a snapshot with any PV without a value is not stored (the job "
        "fails; async=false: 409 with missingCount and missing in the problem).",
        responses={
            201: ResponseSpec(SnapshotSummaryDTO, description="async=false: the snapshot", generate_examples=False),
            202: ResponseSpec(JobQueued, description="async=true: the job was queued", generate_examples=False),
        },
    )
    async def create_snapshot(
        self,
        request: Request[Any, Any, Any],
        ctx: CtxDep,
        data: JSONBody[NewSnapshotBody],
        run_async: Annotated[bool, QueryParameter(name="async")] = True,
        use_cache: Annotated[bool, QueryParameter(name="use_cache")] = True,
        require_complete: Annotated[
            bool, QueryParameter(name="requireComplete", description="store nothing unless every PV has a value")
        ] = False,
    ) -> Response[JobQueued | SnapshotSummaryDTO]:
        actor = principal_of(request)
        spec = snap_service.spec_from_body(data, use_cache, actor, require_complete)
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
        ctx: CtxDep,
        title: Annotated[str | None, QueryParameter(description=_IMPORT_TITLE)] = None,
    ) -> SnapshotSummaryDTO:
        raw = await request.body()
        actor = principal_of(request)
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
        ctx: CtxDep,
        snapshot_id: FromPath[str],
        limit: Annotated[int | None, limit_param(doc="absent = every value")] = None,
        offset: Annotated[int | None, offset_param()] = None,
        q: Annotated[str | None, QueryParameter(description="literal substring of the stored addresses")] = None,
        devices: Annotated[list[str] | None, QueryParameter(description="the PV's device (any)")] = None,
        tags: Annotated[list[str] | None, QueryParameter(description="tag ids: the PV carries one")] = None,
        only_missing: Annotated[
            bool, QueryParameter(name="onlyMissing", description="only PVs saved without a value")
        ] = False,
        different_from_live: Annotated[
            bool,
            QueryParameter(name="differentFromLive", description="only PVs outside tolerance of their live value"),
        ] = False,
    ) -> Stream:
        if limit is not None:
            check_page("limit", limit, 1000)
        sid = path_uuid(snapshot_id, "snapshot")
        device_list = [p.strip() for raw in devices or [] for p in raw.split(",") if p.strip()]
        filters = SnapshotFilter(q or None, device_list, query_uuids("tags", tags), only_missing, different_from_live)
        if filters.active:
            body = await snapshot_filter.filtered_body(ctx, sid, limit, check_offset(offset), filters)
        else:
            body = await snapshot_read.snapshot_body(ctx, sid, limit, check_offset(offset))
        return Stream(body, media_type="application/json")

    @put("/{snapshot_id:str}", summary="Update title, description, comment, labels ('golden' needs admin)")
    async def update_snapshot(
        self,
        request: Request[Any, Any, Any],
        ctx: CtxDep,
        snapshot_id: FromPath[str],
        data: JSONBody[UpdateSnapshotBody],
    ) -> SnapshotSummaryDTO:
        return await snap_service.update(ctx, path_uuid(snapshot_id, "snapshot"), data, principal_of(request))

    @delete("/{snapshot_id:str}", status_code=200, summary="Delete a snapshot (a 'golden' one needs admin)")
    async def delete_snapshot(
        self, request: Request[Any, Any, Any], ctx: CtxDep, snapshot_id: FromPath[str]
    ) -> DeletedDTO:
        return await snap_service.delete(ctx, path_uuid(snapshot_id, "snapshot"), principal_of(request))

    @get(
        "/{snapshot_id:str}/compare/live",
        summary="Compare stored values with the live cache",
        description=_COMPARE_DESCRIPTION,
    )
    async def compare_live(
        self,
        ctx: CtxDep,
        snapshot_id: FromPath[str],
        abs_tolerance: Annotated[float | None, QueryParameter(name="absTolerance", ge=0, description=_TOL)] = None,
        rel_tolerance: Annotated[float | None, QueryParameter(name="relTolerance", ge=0, description=_TOL)] = None,
        side: Annotated[CompareSide | None, QueryParameter(description=_SIDE)] = None,
        limit: Annotated[int | None, limit_param(doc="absent = every difference")] = None,
        offset: Annotated[int | None, offset_param()] = None,
    ) -> CompareResultDTO:
        sid = path_uuid(snapshot_id, "snapshot")
        query = _compare_query(abs_tolerance, rel_tolerance, side, limit, offset)
        return await compare_service.compare_live(ctx, sid, query)

    @get(
        "/{snapshot_id:str}/compare/{second_id:str}",
        summary="Compare two snapshots",
        description=_COMPARE_DESCRIPTION,
    )
    async def compare_snapshots(
        self,
        ctx: CtxDep,
        snapshot_id: FromPath[str],
        second_id: FromPath[str],
        abs_tolerance: Annotated[float | None, QueryParameter(name="absTolerance", ge=0, description=_TOL)] = None,
        rel_tolerance: Annotated[float | None, QueryParameter(name="relTolerance", ge=0, description=_TOL)] = None,
        side: Annotated[CompareSide | None, QueryParameter(description=_SIDE)] = None,
        limit: Annotated[int | None, limit_param(doc="absent = every difference")] = None,
        offset: Annotated[int | None, offset_param()] = None,
    ) -> CompareResultDTO:
        first = path_uuid(snapshot_id, "snapshot")
        second = path_uuid(second_id, "snapshot")
        query = _compare_query(abs_tolerance, rel_tolerance, side, limit, offset)
        return await compare_service.compare_snapshots(ctx, first, second, query)

    @get(
        "/{snapshot_id:str}/export",
        summary="Export a snapshot (csv: Phoebus save-and-restore columns; json)",
        responses={200: ResponseSpec(ExportDocument, description="format=json; format=csv: text/csv")},
        opt={"extra_media": {"text/csv": _CSV_TEXT}},
    )
    async def export_snapshot(
        self,
        ctx: CtxDep,
        snapshot_id: FromPath[str],
        fmt: Annotated[Literal["csv", "json"], QueryParameter(name="format")] = "json",
    ) -> Response[bytes]:
        sid = path_uuid(snapshot_id, "snapshot")
        if fmt == "csv":
            body, media, ext = await snapshot_io.export_csv(ctx, sid), "text/csv", "csv"
        else:
            body, media, ext = await snapshot_io.export_json(ctx, sid), "application/json", "json"
        return Response(
            body, media_type=media, headers={"Content-Disposition": f'attachment; filename="snapshot-{sid}.{ext}"'}
        )


__all__ = ["SnapshotDTO", "SnapshotsController"]
