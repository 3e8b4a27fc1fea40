"""TagService: groups and tags named uniquely per group (case-insensitively), audited, bulk get-or-create."""

from __future__ import annotations

from uuid import uuid4

import pytest

from squirrel.errors import ConflictError, NotFoundError, ValidationError
from squirrel.model import NameDescriptionBody, NameDescriptionPatch, Principal
from squirrel.services import audit
from squirrel.services.context import ServiceContext
from squirrel.services.tags import MAX_DESCRIPTION, MAX_NAME, TagService

ALICE = Principal(name="alice", scopes=frozenset({"write"}))


async def _actions(ctx: ServiceContext) -> list[str]:
    entries, _ = await audit.list_entries(ctx, None, "alice", None, 100, 0)
    return [e.action for e in reversed(entries)]


async def test_a_group_is_created_trimmed_listed_and_read_back(ctx: ServiceContext) -> None:
    tags = TagService(ctx)
    assert await tags.list_groups() == []
    group = await tags.create_group(ALICE, NameDescriptionBody(name="  Area  ", description="where"))
    assert (group.name, group.description, group.tags) == ("Area", "where", [])
    assert await tags.get_group(group.id) == group
    [summary] = await tags.list_groups()
    assert summary.id == group.id and summary.name == "Area"
    assert await _actions(ctx) == ["tag_group.create"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("   ", "name must not be empty or whitespace"),
        ("x" * (MAX_NAME + 1), f"name must be at most {MAX_NAME} characters"),
        ("a\x00b", "name must not contain NUL characters"),
    ],
)
async def test_a_bad_group_name_is_refused(ctx: ServiceContext, name: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        await TagService(ctx).create_group(ALICE, NameDescriptionBody(name=name))
    assert await TagService(ctx).list_groups() == []


async def test_a_bad_description_is_refused(ctx: ServiceContext) -> None:
    tags = TagService(ctx)
    with pytest.raises(ValidationError, match=f"at most {MAX_DESCRIPTION} characters"):
        await tags.create_group(ALICE, NameDescriptionBody(name="g", description="d" * (MAX_DESCRIPTION + 1)))
    with pytest.raises(ValidationError, match="NUL"):
        await tags.create_group(ALICE, NameDescriptionBody(name="g", description="a\x00"))


async def test_group_names_are_unique_case_insensitively(ctx: ServiceContext) -> None:
    tags = TagService(ctx)
    first = await tags.create_group(ALICE, NameDescriptionBody(name="Area"))
    with pytest.raises(ConflictError, match="'Area' already exists") as caught:
        await tags.create_group(ALICE, NameDescriptionBody(name="AREA"))
    assert caught.value.extra == {"groupId": str(first.id)}
    other = await tags.create_group(ALICE, NameDescriptionBody(name="Other"))
    with pytest.raises(ConflictError):
        await tags.update_group(ALICE, other.id, NameDescriptionPatch(name="area"))
    # Renaming a group to itself in another case is no conflict.
    renamed = await tags.update_group(ALICE, first.id, NameDescriptionPatch(name="AREA"))
    assert renamed.name == "AREA"


async def test_an_update_keeps_absent_fields_and_clears_a_null_description(ctx: ServiceContext) -> None:
    tags = TagService(ctx)
    group = await tags.create_group(ALICE, NameDescriptionBody(name="g", description="kept"))
    same = await tags.update_group(ALICE, group.id, NameDescriptionPatch())
    assert (same.name, same.description) == ("g", "kept")
    renamed = await tags.update_group(ALICE, group.id, NameDescriptionPatch(name=" h "))
    assert (renamed.name, renamed.description) == ("h", "kept")
    cleared = await tags.update_group(ALICE, group.id, NameDescriptionPatch(description=None))
    assert (cleared.name, cleared.description) == ("h", None)
    with pytest.raises(ValidationError, match="NUL"):
        await tags.update_group(ALICE, group.id, NameDescriptionPatch(description="\x00"))


async def test_unknown_groups_and_tags_are_not_found(ctx: ServiceContext) -> None:
    tags = TagService(ctx)
    missing = uuid4()
    with pytest.raises(NotFoundError, match=f"tag group {missing} not found"):
        await tags.get_group(missing)
    with pytest.raises(NotFoundError, match="not found"):
        await tags.update_group(ALICE, missing, NameDescriptionPatch(name="x"))
    with pytest.raises(NotFoundError, match="not found"):
        await tags.delete_group(ALICE, missing)
    with pytest.raises(NotFoundError, match="not found"):
        await tags.add_tag(ALICE, missing, NameDescriptionBody(name="t"), skip_duplicates=False)
    group = await tags.create_group(ALICE, NameDescriptionBody(name="g"))
    with pytest.raises(NotFoundError, match=f"tag {missing} not found in group {group.id}"):
        await tags.update_tag(ALICE, group.id, missing, NameDescriptionPatch(name="x"))
    with pytest.raises(NotFoundError, match="not found"):
        await tags.delete_tag(ALICE, group.id, missing)


async def test_tags_are_unique_per_group_and_duplicates_may_be_skipped(ctx: ServiceContext) -> None:
    tags = TagService(ctx)
    g1 = await tags.create_group(ALICE, NameDescriptionBody(name="g1"))
    g2 = await tags.create_group(ALICE, NameDescriptionBody(name="g2"))
    added = await tags.add_tag(ALICE, g1.id, NameDescriptionBody(name="Gold", description="d"), skip_duplicates=False)
    assert added.was_created and [(t.name, t.description) for t in added.group.tags] == [("Gold", "d")]
    gold = added.group.tags[0]
    assert gold.group_id == g1.id
    with pytest.raises(ConflictError, match="already has a tag named 'Gold'") as caught:
        await tags.add_tag(ALICE, g1.id, NameDescriptionBody(name="gold"), skip_duplicates=False)
    assert caught.value.extra == {"tagId": str(gold.id)}
    skipped = await tags.add_tag(ALICE, g1.id, NameDescriptionBody(name="GOLD"), skip_duplicates=True)
    assert not skipped.was_created and [t.id for t in skipped.group.tags] == [gold.id]
    # The same name in another group is another tag.
    other = await tags.add_tag(ALICE, g2.id, NameDescriptionBody(name="gold"), skip_duplicates=False)
    assert other.was_created and other.group.tags[0].id != gold.id
    with pytest.raises(ValidationError, match="name must not be empty"):
        await tags.add_tag(ALICE, g1.id, NameDescriptionBody(name=" "), skip_duplicates=True)


async def test_a_tag_is_renamed_and_deleted_within_its_group_only(ctx: ServiceContext) -> None:
    tags = TagService(ctx)
    g1 = await tags.create_group(ALICE, NameDescriptionBody(name="g1"))
    g2 = await tags.create_group(ALICE, NameDescriptionBody(name="g2"))
    a = (await tags.add_tag(ALICE, g1.id, NameDescriptionBody(name="a"), False)).group.tags[0]
    await tags.add_tag(ALICE, g1.id, NameDescriptionBody(name="b"), False)
    with pytest.raises(ConflictError):
        await tags.update_tag(ALICE, g1.id, a.id, NameDescriptionPatch(name="B"))
    renamed = await tags.update_tag(ALICE, g1.id, a.id, NameDescriptionPatch(name="c", description="new"))
    assert sorted((t.name, t.description) for t in renamed.tags) == [("b", None), ("c", "new")]
    # The tag is not in g2: neither updated nor deleted through it.
    with pytest.raises(NotFoundError):
        await tags.update_tag(ALICE, g2.id, a.id, NameDescriptionPatch(name="x"))
    with pytest.raises(NotFoundError):
        await tags.delete_tag(ALICE, g2.id, a.id)
    left = await tags.delete_tag(ALICE, g1.id, a.id)
    assert [t.name for t in left.tags] == ["b"]
    assert await _actions(ctx) == [
        "tag_group.create",
        "tag_group.create",
        "tag.create",
        "tag.create",
        "tag.update",
        "tag.delete",
    ]


async def test_deleting_a_group_counts_its_tags(ctx: ServiceContext) -> None:
    tags = TagService(ctx)
    group = await tags.create_group(ALICE, NameDescriptionBody(name="g"))
    for name in ("a", "b", "c"):
        await tags.add_tag(ALICE, group.id, NameDescriptionBody(name=name), False)
    deleted = await tags.delete_group(ALICE, group.id)
    assert (deleted.id, deleted.deleted, deleted.tags_removed, deleted.pv_links_removed) == (group.id, True, 3, 0)
    assert await tags.list_groups() == []
    with pytest.raises(NotFoundError):
        await tags.delete_group(ALICE, group.id)
    entries, _ = await audit.list_entries(ctx, None, None, "tag_group.delete", 10, 0)
    assert [e.summary for e in entries] == ["g: 3 tags, 0 PV links removed"]


async def test_bulk_creates_what_is_missing_and_counts_the_rest_as_skipped(ctx: ServiceContext) -> None:
    tags = TagService(ctx)
    group = await tags.create_group(ALICE, NameDescriptionBody(name="Area"))
    await tags.add_tag(ALICE, group.id, NameDescriptionBody(name="Linac"), False)
    # "area" is the existing group; "Linac"/"LINAC" are one tag (existing); "ring" twice is one new tag.
    result = await tags.bulk(ALICE, {"area": ["LINAC", "ring", "Ring"], " System ": ["rf", "vacuum"]})
    assert (result.groups_created, result.tags_created, result.tags_skipped) == (1, 3, 1)
    assert result.warnings == ["1 tag(s) already existed and were skipped"]
    by_name = {g.name: g.id for g in await tags.list_groups()}
    assert sorted(by_name) == ["Area", "System"]
    assert sorted(t.name for t in (await tags.get_group(by_name["Area"])).tags) == ["Linac", "ring"]
    assert sorted(t.name for t in (await tags.get_group(by_name["System"])).tags) == ["rf", "vacuum"]
    again = await tags.bulk(ALICE, {"AREA": ["ring"], "system": ["RF", "Vacuum"]})
    assert (again.groups_created, again.tags_created, again.tags_skipped) == (0, 0, 3)
    entries, _ = await audit.list_entries(ctx, None, None, "tag.bulk_import", 10, 0)
    assert [e.summary for e in entries] == ["0 groups, 0 tags created", "1 groups, 3 tags created"]


async def test_bulk_of_nothing_writes_nothing_but_the_audit_row(ctx: ServiceContext) -> None:
    result = await TagService(ctx).bulk(ALICE, {})
    assert (result.groups_created, result.tags_created, result.tags_skipped, result.warnings) == (0, 0, 0, [])
    group_only = await TagService(ctx).bulk(ALICE, {"empty": []})
    assert (group_only.groups_created, group_only.tags_created) == (1, 0)
    assert [g.name for g in await TagService(ctx).list_groups()] == ["empty"]


async def test_bulk_refuses_a_bad_name_before_writing(ctx: ServiceContext) -> None:
    with pytest.raises(ValidationError, match="tag name in group 'g' must not be empty"):
        await TagService(ctx).bulk(ALICE, {"g": ["ok", "  "]})
    with pytest.raises(ValidationError, match="group name must not be empty"):
        await TagService(ctx).bulk(ALICE, {"": ["ok"]})
    assert await TagService(ctx).list_groups() == []
