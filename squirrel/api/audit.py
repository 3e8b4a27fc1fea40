"""/v1/audit (admin)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from litestar import get
from litestar.params import QueryParameter

from squirrel.api.common import check_offset, check_page, limit_param, offset_param
from squirrel.api.deps import CtxDep
from squirrel.errors import ValidationError
from squirrel.model import AuditPage
from squirrel.services import audit

# ISO 8601 / RFC 3339 date-time: date, time (seconds optional), optional fraction and offset (none = UTC).
# Litestar's own datetime binding also took `0.5` or `1700000000` (epoch seconds): a filter that means
# something else than it says, so the text is parsed here.
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::([0-9]{2})(?:\.[0-9]+)?)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
_SINCE_DOC = "ISO 8601 date-time (2026-01-31T12:00:00Z); without an offset it is UTC; empty: no filter"
_SINCE_SCHEMA = {"type": "string", "pattern": f"^({_DATE_TIME.pattern})?$"}  # exactly what parse_since takes


def parse_since(raw: str) -> datetime:
    """`since` as an aware datetime; anything but an ISO 8601 date-time is a 400 naming the parameter."""
    refused = ValidationError(f"since must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z, got {raw[:40]!r}")
    match = _DATE_TIME.fullmatch(raw)
    if match is None:
        raise refused
    text = raw.upper().replace("Z", "+00:00")
    if match.group(1) == "60":  # a leap second (RFC 3339 allows it; datetime does not)
        text = text[: match.start(1)] + "59" + text[match.end(1) :]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise refused from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@get("/v1/audit", opt={"scope": "admin"}, tags=["audit"], summary="Who did what, when")
async def list_audit(
    ctx: CtxDep,
    since: Annotated[
        str | None, QueryParameter(name="since", description=_SINCE_DOC, schema_extra=_SINCE_SCHEMA)
    ] = None,
    actor: Annotated[str | None, QueryParameter(name="actor")] = None,
    action: Annotated[str | None, QueryParameter(name="action")] = None,
    limit: Annotated[int | None, limit_param()] = None,
    offset: Annotated[int | None, offset_param()] = None,
) -> AuditPage:
    lim, off = check_page("limit", limit, 100), check_offset(offset)
    since_at = parse_since(since) if since else None
    rows, total = await audit.list_entries(ctx, since_at, actor, action, lim, off)
    return AuditPage(rows, total, lim, off)


ROUTES = [list_audit]
