"""/v1/audit (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.params import QueryParameter

from squirrel.api.common import check_offset, check_page, ctx_of, limit_param, offset_param
from squirrel.model import AuditEntry
from squirrel.services import audit


class AuditPage(msgspec.Struct, rename="camel"):
    results: list[AuditEntry]
    total_count: int
    limit: int
    offset: int


@get("/v1/audit", opt={"scope": "admin"}, tags=["audit"], summary="Who did what, when")
async def list_audit(
    request: Request[Any, Any, Any],
    since: Annotated[datetime | None, QueryParameter(name="since")] = None,
    actor: Annotated[str | None, QueryParameter(name="actor")] = None,
    action: Annotated[str | None, QueryParameter(name="action")] = None,
    limit: Annotated[int | None, limit_param()] = None,
    offset: Annotated[int | None, offset_param()] = None,
) -> AuditPage:
    lim, off = check_page("limit", limit, 100), check_offset(offset)
    rows, total = await audit.list_entries(ctx_of(request), since, actor, action, lim, off)
    return AuditPage(rows, total, lim, off)


ROUTES = [list_audit]
