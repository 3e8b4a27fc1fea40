"""/v1/tags: tag groups and their tags."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from squirrel.api.common import ctx_of, path_uuid, principal_of
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
from squirrel.services.tags import TagService


def _tags(request: Request[Any, Any, Any]) -> TagService:
    return TagService(ctx_of(request))


class TagController(Controller):
    path = "/v1/tags"
    tags = ["tags"]

    @get("/", summary="Tag groups with their tag counts")
    async def list_groups(self, request: Request[Any, Any, Any]) -> list[TagGroupSummaryDTO]:
        return await _tags(request).list_groups()

    @post("/", summary="Create a tag group (409 when the name exists, case-insensitive)")
    async def create_group(self, request: Request[Any, Any, Any], data: JSONBody[NameDescriptionBody]) -> TagGroupDTO:
        return await _tags(request).create_group(principal_of(request), data)

    @post("/bulk", summary="Get-or-create groups and tags by name: {groups: {group: [tag, ...]}}")
    async def bulk(self, request: Request[Any, Any, Any], data: JSONBody[BulkTagsBody]) -> BulkTagsResult:
        return await _tags(request).bulk(principal_of(request), data.groups)

    @get("/{group_id:str}", summary="One tag group with its tags (a one-element array, compat)")
    async def get_group(self, request: Request[Any, Any, Any], group_id: FromPath[str]) -> list[TagGroupDTO]:
        return [await _tags(request).get_group(path_uuid(group_id, "tag group"))]

    @put("/{group_id:str}", summary="Rename or describe a tag group")
    async def update_group(
        self, request: Request[Any, Any, Any], group_id: FromPath[str], data: JSONBody[NameDescriptionPatch]
    ) -> TagGroupDTO:
        return await _tags(request).update_group(principal_of(request), path_uuid(group_id, "tag group"), data)

    @delete("/{group_id:str}", status_code=200, summary="Delete a tag group; its tags leave every PV")
    async def delete_group(self, request: Request[Any, Any, Any], group_id: FromPath[str]) -> TagGroupDeleted:
        return await _tags(request).delete_group(principal_of(request), path_uuid(group_id, "tag group"))

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
        group_id: FromPath[str],
        data: JSONBody[NameDescriptionBody],
        skip_duplicates: Annotated[bool, QueryParameter(name="skip_duplicates")] = False,
    ) -> Response[AddTagResult]:
        result = await _tags(request).add_tag(
            principal_of(request), path_uuid(group_id, "tag group"), data, skip_duplicates
        )
        return Response(result, status_code=201 if result.was_created else 200)

    @put("/{group_id:str}/tags/{tag_id:str}", summary="Rename or describe a tag")
    async def update_tag(
        self,
        request: Request[Any, Any, Any],
        group_id: FromPath[str],
        tag_id: FromPath[str],
        data: JSONBody[NameDescriptionPatch],
    ) -> TagGroupDTO:
        gid, tid = path_uuid(group_id, "tag group"), path_uuid(tag_id, "tag")
        return await _tags(request).update_tag(principal_of(request), gid, tid, data)

    @delete("/{group_id:str}/tags/{tag_id:str}", status_code=200, summary="Delete a tag (it leaves every PV)")
    async def delete_tag(
        self, request: Request[Any, Any, Any], group_id: FromPath[str], tag_id: FromPath[str]
    ) -> TagGroupDTO:
        gid, tid = path_uuid(group_id, "tag group"), path_uuid(tag_id, "tag")
        return await _tags(request).delete_tag(principal_of(request), gid, tid)
