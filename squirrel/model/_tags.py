"""Tag groups and tags. camelCase on the wire."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class TagDTO(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    name: str
    description: str | None
    group_id: UUID
    created_date: datetime
    last_modified_date: datetime


class TagGroupSummaryDTO(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    name: str
    description: str | None
    tag_count: int


class TagGroupDTO(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    name: str
    description: str | None
    tags: list[TagDTO]
    created_date: datetime
    last_modified_date: datetime


class NameDescriptionBody(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """Create body of a tag group or a tag."""

    name: str
    description: str | None = None


class NameDescriptionPatch(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """Partial update of a tag group or a tag (absent = kept)."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType | None = msgspec.UNSET


class AddTagResult(msgspec.Struct, rename="camel", kw_only=True):
    group: TagGroupDTO
    was_created: bool


class BulkTagsBody(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    groups: dict[str, list[str]]


class BulkTagsResult(msgspec.Struct, rename="camel", kw_only=True):
    groups_created: int
    tags_created: int
    tags_skipped: int
    warnings: list[str]


class TagGroupDeleted(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    deleted: bool
    tags_removed: int
    pv_links_removed: int
