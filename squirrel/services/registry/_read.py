"""The read side's pure parts: database rows as DTOs, search patterns, page tokens, tag filters."""

from __future__ import annotations

import base64
import binascii
from uuid import UUID

import msgspec

from squirrel.db.rows import Row, as_struct
from squirrel.errors import ValidationError
from squirrel.model import PVElementDTO, TagRef


def like_pattern(text: str | None) -> str | None:
    """An ILIKE pattern matching `text` literally as a substring (%, _ and \\ escaped)."""
    if not text:
        return None
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def tag_ref(row: Row) -> TagRef:
    return as_struct(TagRef, row)


def row_to_dto(row: Row) -> PVElementDTO:
    return as_struct(
        PVElementDTO,
        row,
        tags=msgspec.convert(row["tags"], list[TagRef]),
        created_date=row["created_at"],
        last_modified_date=row["updated_at"],
        last_modified_by=row["updated_by"],
    )


def page_token(sort_name: str, pv_id: UUID) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode([sort_name, str(pv_id)])).decode().rstrip("=")


def parse_token(token: str | None) -> tuple[str, UUID] | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        name, pv_id = msgspec.json.decode(raw, type=tuple[str, UUID])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise ValidationError("continuationToken is invalid: pass back the token of the previous page") from None
    return name, pv_id


def parse_tag_filters(raw: str | None) -> dict[str, list[str]] | None:
    """{groupId: [tagId..]} from JSON; empty groups impose nothing."""
    if not raw:
        return None
    try:
        decoded = msgspec.json.decode(raw, type=dict[UUID, list[UUID]])
    except msgspec.DecodeError as exc:
        raise ValidationError(f"tagFilters must be a JSON object {{groupId: [tagId, ...]}} of UUIDs: {exc}") from None
    filters = {str(g): [str(t) for t in tags] for g, tags in decoded.items() if tags}
    return filters or None
