"""Tag groups and tags: names unique per group, case-insensitively (the database enforces it too)."""

from __future__ import annotations

from uuid import UUID

import msgspec

from squirrel.db import pvs as pvs_db
from squirrel.db import tags as tags_db
from squirrel.db.pool import connection
from squirrel.db.rows import Conn, as_struct
from squirrel.errors import ConflictError, NotFoundError, ValidationError
from squirrel.model import (
    AddTagResult,
    BulkTagsResult,
    NameDescriptionBody,
    NameDescriptionPatch,
    Principal,
    TagDTO,
    TagGroupDeleted,
    TagGroupDTO,
    TagGroupSummaryDTO,
)
from squirrel.services import audit
from squirrel.services._common import clean_text
from squirrel.services.context import ServiceContext

MAX_NAME = 255
MAX_DESCRIPTION = 10_000


def clean_name(value: str, field: str) -> str:
    return clean_text(value, MAX_NAME, "", field)


def check_description(value: str | None, field: str = "description") -> str | None:
    if value is not None and len(value) > MAX_DESCRIPTION:
        raise ValidationError(f"{field} must be at most {MAX_DESCRIPTION} characters, got {len(value)}")
    if value is not None and "\x00" in value:
        raise ValidationError(f"{field} must not contain NUL characters")
    return value


async def _group_dto(conn: Conn, group_id: UUID) -> TagGroupDTO:
    group = await tags_db.get_group(conn, group_id)
    if group is None:
        raise NotFoundError(f"tag group {group_id} not found")
    tags = [
        as_struct(TagDTO, t, created_date=t["created_at"], last_modified_date=t["updated_at"])
        for t in await tags_db.tags_of_group(conn, group_id)
    ]
    return as_struct(
        TagGroupDTO, group, tags=tags, created_date=group["created_at"], last_modified_date=group["updated_at"]
    )


async def _no_group_named(conn: Conn, name: str, except_id: UUID | None = None) -> None:
    other = await tags_db.group_named(conn, name, except_id)
    if other is not None:
        raise ConflictError(
            f"a tag group named {other['name']!r} already exists (names are case-insensitive)", groupId=str(other["id"])
        )


async def _no_tag_named(conn: Conn, group_id: UUID, name: str, except_id: UUID | None = None) -> None:
    other = await tags_db.tag_named(conn, group_id, name, except_id)
    if other is not None:
        raise ConflictError(
            f"the group already has a tag named {other['name']!r} (names are case-insensitive)", tagId=str(other["id"])
        )


class TagService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def list_groups(self) -> list[TagGroupSummaryDTO]:
        async with connection(self.ctx.pool) as conn:
            rows = await tags_db.list_groups(conn)
        return [TagGroupSummaryDTO(**r) for r in rows]

    async def get_group(self, group_id: UUID) -> TagGroupDTO:
        async with connection(self.ctx.pool) as conn:
            return await _group_dto(conn, group_id)

    async def create_group(self, actor: Principal, body: NameDescriptionBody) -> TagGroupDTO:
        name = clean_name(body.name, "name")
        description = check_description(body.description)
        async with connection(self.ctx.pool) as conn:
            await _no_group_named(conn, name)
            group_id = await tags_db.insert_group(conn, name, description)
            await audit.record(conn, actor, "tag_group.create", "tag_group", group_id, name)
            return await _group_dto(conn, group_id)

    async def update_group(self, actor: Principal, group_id: UUID, body: NameDescriptionPatch) -> TagGroupDTO:
        async with connection(self.ctx.pool) as conn:
            current = await tags_db.get_group(conn, group_id)
            if current is None:
                raise NotFoundError(f"tag group {group_id} not found")
            name = current["name"] if body.name is msgspec.UNSET else clean_name(body.name, "name")
            description = current["description"] if body.description is msgspec.UNSET else body.description
            check_description(description)
            await _no_group_named(conn, name, group_id)
            await tags_db.update_group(conn, group_id, name, description)
            await audit.record(conn, actor, "tag_group.update", "tag_group", group_id, name)
            return await _group_dto(conn, group_id)

    async def delete_group(self, actor: Principal, group_id: UUID) -> TagGroupDeleted:
        async with connection(self.ctx.pool) as conn:
            row = await tags_db.delete_group(conn, group_id)
            if row is None:
                raise NotFoundError(f"tag group {group_id} not found")
            summary = f"{row['name']}: {row['tags_removed']} tags, {row['pv_links_removed']} PV links removed"
            await audit.record(conn, actor, "tag_group.delete", "tag_group", group_id, summary)
            await pvs_db.notify_registry(conn)  # PVs lost tags: tag-based live selections change
        return TagGroupDeleted(
            id=group_id,
            deleted=True,
            tags_removed=int(row["tags_removed"]),
            pv_links_removed=int(row["pv_links_removed"]),
        )

    async def add_tag(
        self, actor: Principal, group_id: UUID, body: NameDescriptionBody, skip_duplicates: bool
    ) -> AddTagResult:
        name = clean_name(body.name, "name")
        description = check_description(body.description)
        async with connection(self.ctx.pool) as conn:
            if await tags_db.get_group(conn, group_id) is None:
                raise NotFoundError(f"tag group {group_id} not found")
            if skip_duplicates and await tags_db.tag_named(conn, group_id, name) is not None:
                return AddTagResult(group=await _group_dto(conn, group_id), was_created=False)
            await _no_tag_named(conn, group_id, name)
            tag_id = await tags_db.insert_tag(conn, group_id, name, description)
            await audit.record(conn, actor, "tag.create", "tag", tag_id, f"{name} in group {group_id}")
            return AddTagResult(group=await _group_dto(conn, group_id), was_created=True)

    async def update_tag(
        self, actor: Principal, group_id: UUID, tag_id: UUID, body: NameDescriptionPatch
    ) -> TagGroupDTO:
        async with connection(self.ctx.pool) as conn:
            current = await tags_db.get_tag(conn, group_id, tag_id)
            if current is None:
                raise NotFoundError(f"tag {tag_id} not found in group {group_id}")
            name = current["name"] if body.name is msgspec.UNSET else clean_name(body.name, "name")
            description = current["description"] if body.description is msgspec.UNSET else body.description
            check_description(description)
            await _no_tag_named(conn, group_id, name, tag_id)
            await tags_db.update_tag(conn, group_id, tag_id, name, description)
            await audit.record(conn, actor, "tag.update", "tag", tag_id, name)
            return await _group_dto(conn, group_id)

    async def delete_tag(self, actor: Principal, group_id: UUID, tag_id: UUID) -> TagGroupDTO:
        async with connection(self.ctx.pool) as conn:
            row = await tags_db.delete_tag(conn, group_id, tag_id)
            if row is None:
                raise NotFoundError(f"tag {tag_id} not found in group {group_id}")
            await audit.record(conn, actor, "tag.delete", "tag", tag_id, row["name"])
            await pvs_db.notify_registry(conn)
            return await _group_dto(conn, group_id)

    async def bulk(self, actor: Principal, groups: dict[str, list[str]]) -> BulkTagsResult:
        wanted: dict[str, list[str]] = {}
        for raw_group, raw_tags in groups.items():
            group = clean_name(raw_group, "group name")
            wanted.setdefault(group, []).extend(clean_name(t, f"tag name in group {group!r}") for t in raw_tags)
        async with connection(self.ctx.pool) as conn:
            ensured = await ensure_tags(conn, wanted)
            await audit.record(
                conn,
                actor,
                "tag.bulk_import",
                "tag_group",
                None,
                f"{ensured.groups_created} groups, {ensured.tags_created} tags created",
            )
        requested = sum(len({t.lower() for t in tags}) for tags in wanted.values())
        skipped = requested - ensured.tags_created
        warnings = [f"{skipped} tag(s) already existed and were skipped"] if skipped else []
        return BulkTagsResult(
            groups_created=ensured.groups_created,
            tags_created=ensured.tags_created,
            tags_skipped=skipped,
            warnings=warnings,
        )


class EnsuredTags(msgspec.Struct):
    """Tag ids by (lower(group name), lower(tag name)), and how many rows had to be created."""

    ids: dict[tuple[str, str], UUID]
    groups_created: int
    tags_created: int


async def ensure_tags(conn: Conn, wanted: dict[str, list[str]]) -> EnsuredTags:
    """Get-or-create groups and tags by name (case-insensitive) in a few set-based statements."""
    group_names: dict[str, str] = {}
    for group in wanted:
        group_names.setdefault(group.lower(), group)
    created_groups = await tags_db.insert_groups_missing(conn, list(group_names.values()))
    group_rows = await tags_db.groups_by_lower_names(conn, list(group_names))
    group_ids = {r["name"].lower(): r["id"] for r in group_rows}
    pairs: dict[tuple[UUID, str], str] = {}
    for group, tags in wanted.items():
        gid = group_ids[group.lower()]
        for tag in tags:
            pairs.setdefault((gid, tag.lower()), tag)
    created_tags = await tags_db.insert_tags_missing(conn, [(gid, name) for (gid, _), name in pairs.items()])
    by_group = {gid: name for name, gid in group_ids.items()}
    ids = {
        (by_group[r["group_id"]], r["name"].lower()): r["id"]
        for r in await tags_db.tags_of_groups(conn, list(by_group))
    }
    return EnsuredTags(ids=ids, groups_created=len(created_groups), tags_created=len(created_tags))
