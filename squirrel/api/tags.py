"""/v1/tags: tag groups and their tags."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from squirrel.api.common import path_uuid, principal_of
from squirrel.api.deps import TagServiceDep
from squirrel.model import (
    AddTagResult,
    BulkTagsBody,
    BulkTagsResult,
    NameDescriptionBody,
    NameDescriptionPatch,
    TagGroupDeleted,
    TagGroupDTO,
    TagGroupSummaryDTO,
)


class TagController(Controller):
    path = "/v1/tags"
    tags = ["tags"]

    @get("/", summary="Tag groups with their tag counts")
    async def list_groups(self, tag_service: TagServiceDep) -> list[TagGroupSummaryDTO]:
        return await tag_service.list_groups()

    @post("/", summary="Create a tag group (409 when the name exists, case-insensitive)")
    async def create_group(
        self, request: Request[Any, Any, Any], tag_service: TagServiceDep, data: JSONBody[NameDescriptionBody]
    ) -> TagGroupDTO:
        return await tag_service.create_group(principal_of(request), data)

    @post("/bulk", summary="Get-or-create groups and tags by name: {groups: {group: [tag, ...]}}")
    async def bulk(
        self, request: Request[Any, Any, Any], tag_service: TagServiceDep, data: JSONBody[BulkTagsBody]
    ) -> BulkTagsResult:
        return await tag_service.bulk(principal_of(request), data.groups)

    @get("/{group_id:str}", summary="One tag group with its tags (a one-element array, compat)")
    async def get_group(self, tag_service: TagServiceDep, group_id: FromPath[str]) -> list[TagGroupDTO]:
        return [await tag_service.get_group(path_uuid(group_id, "tag group"))]

    @put("/{group_id:str}", summary="Rename or describe a tag group")
    async def update_group(
        self,
        request: Request[Any, Any, Any],
        tag_service: TagServiceDep,
        group_id: FromPath[str],
        data: JSONBody[NameDescriptionPatch],
    ) -> TagGroupDTO:
        return await tag_service.update_group(principal_of(request), path_uuid(group_id, "tag group"), data)

    @delete("/{group_id:str}", status_code=200, summary="Delete a tag group; its tags leave every PV")
    async def delete_group(
        self, request: Request[Any, Any, Any], tag_service: TagServiceDep, group_id: FromPath[str]
    ) -> TagGroupDeleted:
        return await tag_service.delete_group(principal_of(request), path_uuid(group_id, "tag group"))

    @post(
        "/{group_id:str}/tags",
        summary="Add a tag to a group",
        description="201 when created; with skip_duplicates=true an existing name (any case) answers 200 with "
        "wasCreated=false instead of 409.",
        responses={
            201: ResponseSpec(AddTagResult, description="created", generate_examples=False),
            200: ResponseSpec(AddTagResult, description="skip_duplicates=true: it existed", generate_examples=False),
        },
    )
    async def add_tag(
        self,
        request: Request[Any, Any, Any],
        tag_service: TagServiceDep,
        group_id: FromPath[str],
        data: JSONBody[NameDescriptionBody],
        skip_duplicates: Annotated[bool, QueryParameter(name="skip_duplicates")] = False,
    ) -> Response[AddTagResult]:
        result = await tag_service.add_tag(
            principal_of(request), path_uuid(group_id, "tag group"), data, skip_duplicates
        )
        return Response(result, status_code=201 if result.was_created else 200)

    @put("/{group_id:str}/tags/{tag_id:str}", summary="Rename or describe a tag")
    async def update_tag(
        self,
        request: Request[Any, Any, Any],
        tag_service: TagServiceDep,
        group_id: FromPath[str],
        tag_id: FromPath[str],
        data: JSONBody[NameDescriptionPatch],
    ) -> TagGroupDTO:
        gid, tid = path_uuid(group_id, "tag group"), path_uuid(tag_id, "tag")
        return await tag_service.update_tag(principal_of(request), gid, tid, data)

    @delete("/{group_id:str}/tags/{tag_id:str}", status_code=200, summary="Delete a tag (it leaves every PV)")
    async def delete_tag(
        self,
        request: Request[Any, Any, Any],
        tag_service: TagServiceDep,
        group_id: FromPath[str],
        tag_id: FromPath[str],
    ) -> TagGroupDTO:
        gid, tid = path_uuid(group_id, "tag group"), path_uuid(tag_id, "tag")
        return await tag_service.delete_tag(principal_of(request), gid, tid)
