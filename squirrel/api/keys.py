"""/v1/api-keys (admin)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from squirrel.api.common import path_uuid, principal_of
from squirrel.api.deps import KeyServiceDep
from squirrel.errors import ValidationError
from squirrel.model import ApiKey


class CreateKeyBody(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    app_name: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    scopes: list[str] | None = None
    # The earlier dialect's form: {appName, readAccess, writeAccess}.
    read_access: bool | None = None
    write_access: bool | None = None


def _scopes(body: CreateKeyBody) -> list[str]:
    if body.scopes is not None:
        if body.read_access is not None or body.write_access is not None:
            raise ValidationError("give either scopes or readAccess/writeAccess, not both")
        return body.scopes
    scopes = []
    if body.read_access:
        scopes.append("read")
    if body.write_access:
        scopes.append("write")
    if not scopes:
        raise ValidationError("scopes is required (or readAccess/writeAccess)")
    return scopes


class KeysController(Controller):
    path = "/v1/api-keys"
    tags = ["api-keys"]
    opt = {"scope": "admin"}

    @get("/", summary="List API keys")
    async def list_keys(
        self,
        key_service: KeyServiceDep,
        include_inactive: Annotated[bool, QueryParameter(name="includeInactive")] = False,
    ) -> list[ApiKey]:
        return await key_service.list(include_inactive)

    @get("/count", summary="Count API keys")
    async def count_keys(self, key_service: KeyServiceDep) -> dict[str, int]:
        return await key_service.count()

    @post("/", summary="Create an API key; the token is shown only in this answer")
    async def create_key(
        self, request: Request[Any, Any, Any], key_service: KeyServiceDep, data: JSONBody[CreateKeyBody]
    ) -> ApiKey:
        return await key_service.create(principal_of(request), data.app_name, _scopes(data))

    @delete("/{key_id:str}", status_code=200, summary="Revoke an API key")
    async def revoke_key(
        self, request: Request[Any, Any, Any], key_service: KeyServiceDep, key_id: FromPath[str]
    ) -> ApiKey:
        return await key_service.revoke(principal_of(request), path_uuid(key_id, "API key"))
