"""Tag rows: case-insensitive look-ups, set-based get-or-create, and the empty inputs that skip the database."""

from __future__ import annotations

from uuid import uuid4

from squirrel.db import tags as tags_db
from squirrel.db.pool import SquirrelPool, connection


async def test_names_are_found_case_insensitively_except_the_row_itself(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        gid = await tags_db.insert_group(conn, "Area", "d")
        assert (await tags_db.group_named(conn, "AREA"))["id"] == gid  # type: ignore[index]
        assert await tags_db.group_named(conn, "area", except_id=gid) is None
        tid = await tags_db.insert_tag(conn, gid, "Linac", None)
        assert (await tags_db.tag_named(conn, gid, "linac"))["id"] == tid  # type: ignore[index]
        assert await tags_db.tag_named(conn, gid, "LINAC", except_id=tid) is None
        assert await tags_db.tag_named(conn, uuid4(), "linac") is None  # another group


async def test_updates_and_deletes_of_missing_rows_answer_nothing(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        gid = await tags_db.insert_group(conn, "g", None)
        assert await tags_db.update_group(conn, gid, "g2", "x") is True
        assert await tags_db.update_group(conn, uuid4(), "g3", None) is False
        assert await tags_db.update_tag(conn, gid, uuid4(), "t", None) is False
        assert await tags_db.delete_tag(conn, gid, uuid4()) is None
        tid = await tags_db.insert_tag(conn, gid, "t", None)
        assert await tags_db.get_tag(conn, uuid4(), tid) is None  # the tag is looked up in its group only
        deleted = await tags_db.delete_group(conn, gid)
        assert deleted is not None and (deleted["name"], deleted["tags_removed"]) == ("g2", 1)
        assert await tags_db.delete_group(conn, gid) is None
        assert await tags_db.all_tags(conn) == []


async def test_get_or_create_inserts_only_the_missing_names(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        assert await tags_db.insert_groups_missing(conn, []) == []
        assert await tags_db.insert_tags_missing(conn, []) == []
        assert await tags_db.tags_of_groups(conn, []) == []
        first = await tags_db.insert_groups_missing(conn, ["Area", "System"])
        assert len(first) == 2
        again = await tags_db.insert_groups_missing(conn, ["AREA", "Other"])
        assert len(again) == 1  # "AREA" is "Area"
        rows = await tags_db.groups_by_lower_names(conn, ["area", "other", "none"])
        assert sorted(r["name"] for r in rows) == ["Area", "Other"]
        area = next(r["id"] for r in rows if r["name"] == "Area")
        made = await tags_db.insert_tags_missing(conn, [(area, "a"), (area, "b")])
        assert len(made) == 2
        assert len(await tags_db.insert_tags_missing(conn, [(area, "A"), (area, "c")])) == 1
        assert sorted(r["name"] for r in await tags_db.tags_of_groups(conn, [area])) == ["a", "b", "c"]
        assert len(await tags_db.all_tags(conn)) == 3
