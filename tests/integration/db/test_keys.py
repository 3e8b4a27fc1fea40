"""API key rows: insert, look-ups by hash and id, the active-only listing and count, revoke once, touch."""

from __future__ import annotations

from uuid import uuid4

import pytest

from squirrel.db import keys as keys_db
from squirrel.db.pool import SquirrelPool, connection
from squirrel.errors import ConflictError, ValidationError


async def test_insert_then_look_up_by_hash_and_id(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        row = await keys_db.insert(conn, "beamline", b"hash-1", ["read", "write"])
        assert (row["app_name"], row["scopes"], row["is_active"], row["last_used_at"]) == (
            "beamline",
            ["read", "write"],
            True,
            None,
        )
        assert "token_hash" not in row  # the hash never leaves the repository
        by_hash = await keys_db.by_hash(conn, b"hash-1")
        assert by_hash is not None and by_hash["id"] == row["id"] and by_hash["scopes"] == ["read", "write"]
        got = await keys_db.get(conn, row["id"])
        assert got is not None and got["created_at"] == row["created_at"]


async def test_unknown_hash_and_id_find_nothing(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        assert await keys_db.by_hash(conn, b"no such hash") is None
        assert await keys_db.get(conn, uuid4()) is None
        assert await keys_db.revoke(conn, uuid4()) is None
        assert await keys_db.list_all(conn, include_inactive=True) == []
        assert await keys_db.count(conn) == {"active": 0, "total": 0}
        await keys_db.touch(conn, uuid4())  # a missing key is no error: nothing to touch


async def test_revoke_is_once_and_hides_the_key_from_the_active_list(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        a = await keys_db.insert(conn, "a", b"ha", ["read"])
        b = await keys_db.insert(conn, "b", b"hb", ["admin"])
        revoked = await keys_db.revoke(conn, a["id"])
        assert revoked is not None and revoked["id"] == a["id"] and revoked["is_active"] is False
        assert await keys_db.revoke(conn, a["id"]) is None  # already revoked: nothing changes
        assert [r["id"] for r in await keys_db.list_all(conn, include_inactive=False)] == [b["id"]]
        every = await keys_db.list_all(conn, include_inactive=True)  # one transaction: created_at ties
        assert sorted(r["id"] for r in every) == sorted([a["id"], b["id"]])
        assert await keys_db.count(conn) == {"active": 1, "total": 2}
        by_hash = await keys_db.by_hash(conn, b"ha")  # still found: the caller sees it is inactive
        assert by_hash is not None and by_hash["is_active"] is False


async def test_touch_sets_last_used(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        row = await keys_db.insert(conn, "t", b"ht", ["read"])
        await keys_db.touch(conn, row["id"])
        got = await keys_db.get(conn, row["id"])
        assert got is not None and got["last_used_at"] is not None and got["last_used_at"] >= row["created_at"]


async def test_active_names_are_unique_case_insensitively_until_revoked(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        first = await keys_db.insert(conn, "Panel", b"h1", ["read"])
    with pytest.raises(ConflictError):
        async with connection(pool) as conn:
            await keys_db.insert(conn, "PANEL", b"h2", ["read"])
    async with connection(pool) as conn:
        await keys_db.revoke(conn, first["id"])
        again = await keys_db.insert(conn, "panel", b"h2", ["read"])  # the name is free once revoked
        assert again["id"] != first["id"]


async def test_a_hash_is_unique_and_a_blank_name_is_refused(pool: SquirrelPool) -> None:
    async with connection(pool) as conn:
        await keys_db.insert(conn, "one", b"same", ["read"])
    with pytest.raises(ConflictError):
        async with connection(pool) as conn:
            await keys_db.insert(conn, "two", b"same", ["read"])
    with pytest.raises(ValidationError):
        async with connection(pool) as conn:
            await keys_db.insert(conn, "   ", b"other", ["read"])
