"""/v1/pvs: the PV registry (list, paged, search, devices, get, export, create, multi, import, update, delete)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

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
from squirrel.api.deps import CtxDep, RegistryDep
from squirrel.errors import ValidationError
from squirrel.model import (
    DeletedDTO,
    NewPVElementDTO,
    PVElementDTO,
    PVImportCheck,
    PVImportResult,
    PVPage,
    PVSearchResult,
    UpdatePVElementDTO,
)
from squirrel.services import registry_check

BULK_LIMIT = 64_000_000
_CSV_TYPES = {"text/csv", "application/csv", "text/plain", "application/octet-stream", "application/vnd.ms-excel", ""}


_CSV_FILE = {"type": "string", "description": "CSV: Setpoint, Readback, Device, Description, tag groups"}
# The import reads its body itself (CSV, or a form with the file): the schema says what it takes.
_IMPORT_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": _CSV_FILE},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
    },
}


async def _csv_body(request: Request[Any, Any, Any]) -> bytes:
    """The CSV bytes of a text/csv body or of the first file in a multipart form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form()
        for value in form.values():
            if isinstance(value, UploadFile):
                return await value.read()
        for value in form.values():
            if isinstance(value, str):
                return value.encode()
        raise ValidationError("the multipart form holds no CSV file")
    if content_type not in _CSV_TYPES:
        raise HTTPException(
            status_code=415, detail=f"send the CSV as text/csv or multipart/form-data, not {content_type!r}"
        )
    return await request.body()


_VALIDATE_ONLY = "true: check the CSV and answer every row error, writing nothing"


class PVController(Controller):
    path = "/v1/pvs"
    tags = ["pvs"]

    @get("/", summary="PVs whose address contains pvName (first 1000, compat)")
    async def list_pvs(
        self, registry: RegistryDep, pv_name: Annotated[str | None, QueryParameter(name="pvName")] = None
    ) -> list[PVElementDTO]:
        return (await registry.page(pv_name, 1000, None, None)).results

    @get(
        "/paged",
        summary="Keyset-paged PVs ordered by setpoint address",
        description="tagFilters is JSON {groupId: [tagId, ...]}: OR within a group, AND across groups. "
        "continuationToken is the opaque token of the previous page.",
    )
    async def paged(
        self,
        registry: RegistryDep,
        pv_name: Annotated[str | None, QueryParameter(name="pvName")] = None,
        page_size: Annotated[int | None, limit_param("pageSize")] = None,
        token: Annotated[str | None, QueryParameter(name="continuationToken")] = None,
        tag_filters: Annotated[str | None, QueryParameter(name="tagFilters")] = None,
    ) -> PVPage:
        size = check_page("pageSize", page_size, 100)
        return await registry.page(pv_name, size, token, tag_filters)

    @get(
        "/search",
        summary="Search PVs by text, devices and tags",
        description="q is a literal substring of the addresses or description; devices and tags (ids) are OR "
        "lists. include_live_values adds liveValues (address -> live entry) from this process's cache.",
    )
    async def search(
        self,
        registry: RegistryDep,
        q: Annotated[str | None, QueryParameter(name="q")] = None,
        devices: Annotated[list[str] | None, QueryParameter(name="devices")] = None,
        tags: Annotated[
            list[str] | None, QueryParameter(name="tags", description="tag ids", schema_extra=UUID_ITEMS)
        ] = None,
        limit: Annotated[int | None, limit_param()] = None,
        offset: Annotated[int | None, offset_param()] = None,
        include_live_values: Annotated[bool, QueryParameter(name="include_live_values")] = False,
    ) -> PVSearchResult:
        lim, off = check_page("limit", limit, 100), check_offset(offset)
        tag_ids = query_uuids("tags", tags)
        return await registry.search(q, devices or [], tag_ids, lim, off, include_live_values)

    @get("/devices", summary="Sorted distinct devices")
    async def devices(self, registry: RegistryDep) -> list[str]:
        return await registry.devices()

    @get(
        "/export",
        summary="The whole registry in the import format",
        description="format=json: an array accepted by POST /v1/pvs/multi; format=csv: the POST /v1/pvs/import CSV.",
        responses={200: ResponseSpec(list[NewPVElementDTO], description="format=json; format=csv: text/csv")},
        opt={"extra_media": {"text/csv": {"type": "string", "description": "the POST /v1/pvs/import CSV"}}},
    )
    async def export(
        self,
        registry: RegistryDep,
        fmt: Annotated[Literal["csv", "json"], QueryParameter(name="format")] = "json",
    ) -> Response[Any]:
        data = await registry.export(fmt)
        if isinstance(data, str):
            headers = {"content-disposition": 'attachment; filename="pvs.csv"'}
            return Response(data, media_type="text/csv", headers=headers)
        return Response(data)

    @get("/{pv_id:str}", summary="One PV")
    async def get_pv(self, registry: RegistryDep, pv_id: FromPath[str]) -> PVElementDTO:
        return await registry.get(path_uuid(pv_id, "PV"))

    @post("/", summary="Create a PV (409 when the setpoint address exists)")
    async def create(
        self, request: Request[Any, Any, Any], registry: RegistryDep, data: JSONBody[NewPVElementDTO]
    ) -> PVElementDTO:
        return await registry.create(principal_of(request), data)

    @post(
        "/multi",
        request_max_body_size=BULK_LIMIT,
        summary="Create many PVs, all or nothing (up to 64 MB)",
    )
    async def create_many(
        self, request: Request[Any, Any, Any], registry: RegistryDep, data: JSONBody[list[NewPVElementDTO]]
    ) -> list[PVElementDTO]:
        return await registry.create_many(principal_of(request), data)

    @post(
        "/import",
        request_max_body_size=BULK_LIMIT,
        summary="Import PVs from CSV, all or nothing (up to 64 MB)",
        description="Columns Setpoint (required), Readback, Device, Description; every other column is a tag "
        "group whose cells list tags separated by ';' or ','. Groups and tags are created as needed. Send the "
        "file as text/csv or as a multipart/form-data upload. validateOnly=true writes nothing and answers "
        "200 {valid, rowCount, errorCount, errors: [{line, detail}]} with every row error (a header that "
        "cannot be read is still a 400).",
        opt={"request_body": _IMPORT_BODY},
        responses={
            201: ResponseSpec(PVImportResult, description="imported", generate_examples=False),
            200: ResponseSpec(PVImportCheck, description="validateOnly=true: the check", generate_examples=False),
        },
    )
    async def import_csv(
        self,
        request: Request[Any, Any, Any],
        registry: RegistryDep,
        ctx: CtxDep,
        validate_only: Annotated[bool, QueryParameter(name="validateOnly", description=_VALIDATE_ONLY)] = False,
    ) -> Response[PVImportResult | PVImportCheck]:
        body = await _csv_body(request)
        if validate_only:
            return Response(await registry_check.check_csv(ctx, body), status_code=200)
        return Response(await registry.import_csv(principal_of(request), body), status_code=201)

    @put("/{pv_id:str}", summary="Update a PV (absent fields are kept; tags replaces the set)")
    async def update(
        self,
        request: Request[Any, Any, Any],
        registry: RegistryDep,
        pv_id: FromPath[str],
        data: JSONBody[UpdatePVElementDTO],
    ) -> PVElementDTO:
        return await registry.update(principal_of(request), path_uuid(pv_id, "PV"), data)

    @delete("/{pv_id:str}", status_code=200, summary="Remove a PV from the registry (snapshots keep its values)")
    async def delete_pv(
        self, request: Request[Any, Any, Any], registry: RegistryDep, pv_id: FromPath[str]
    ) -> DeletedDTO:
        return await registry.delete(principal_of(request), path_uuid(pv_id, "PV"))
