"""Small helpers shared by controllers: the caller, paging checks, ids (services come by DI: api.deps)."""

from __future__ import annotations

from uuid import UUID

from litestar.params import ParameterKwarg, QueryParameter

from squirrel.api.auth import principal_of
from squirrel.errors import NotFoundError, ValidationError

MAX_PAGE = 1000
INT32_MAX = 2**31 - 1  # API.md: offsets and limits are int32; larger values are refused, never wrapped
# schema_extra of a list of ids read by query_uuids: a UUID, or empty (no filter); comma lists are accepted too.
# A pattern rather than anyOf(format, maxLength 0): testers judge each anyOf branch alone.
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
UUID_ITEMS = {"items": {"type": "string", "pattern": f"^({_UUID})?$"}}


def limit_param(name: str = "limit", doc: str = "default 100") -> ParameterKwarg:
    """A page-size query parameter, bounded in the schema and by Litestar's validation."""
    return QueryParameter(name=name, ge=1, le=MAX_PAGE, description=f"1..{MAX_PAGE}, {doc}")


def offset_param() -> ParameterKwarg:
    # Litestar leaves a 0 bound out of the schema (it tests it for truth): schema_extra puts it back.
    return QueryParameter(
        name="offset", ge=0, le=INT32_MAX, description=f"rows to skip, 0..{INT32_MAX}", schema_extra={"minimum": 0}
    )


def check_page(name: str, value: int | None, default: int, maximum: int = MAX_PAGE) -> int:
    if value is None:
        return default
    if not 1 <= value <= maximum:
        raise ValidationError(f"{name} must be between 1 and {maximum}, got {value}")
    return value


def check_offset(value: int | None) -> int:
    if value is None:
        return 0
    if not 0 <= value <= INT32_MAX:
        raise ValidationError(f"offset must be between 0 and {INT32_MAX}, got {value}")
    return value


def path_uuid(value: str, what: str) -> UUID:
    """A UUID from a path segment; a malformed one is an unknown resource (404), as API.md says."""
    try:
        return UUID(value)
    except ValueError:
        raise NotFoundError(f"{what} {value!r} not found (not a valid id)") from None


def query_uuids(name: str, values: list[str] | None) -> list[UUID]:
    """UUIDs from a query parameter (repeated or comma-separated); malformed ones are a 400."""
    out: list[UUID] = []
    for raw in values or []:
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                out.append(UUID(part))
            except ValueError:
                raise ValidationError(f"{name}: {part!r} is not a valid UUID") from None
    return out


__all__ = [
    "INT32_MAX",
    "UUID_ITEMS",
    "check_offset",
    "check_page",
    "limit_param",
    "offset_param",
    "path_uuid",
    "principal_of",
    "query_uuids",
]
