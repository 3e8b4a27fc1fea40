"""KeyService: tokens shown once and stored hashed, unique active names, revocation that ends watches."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from squirrel.db.pool import connection
from squirrel.errors import ConflictError, NotFoundError, ValidationError
from squirrel.services import audit
from squirrel.services.context import ServiceContext
from squirrel.services.keys import SYSTEM, TOKEN_PREFIX, KeyService, hash_token, new_token, normalise_scopes


def test_tokens_are_prefixed_random_and_hashed_with_sha256() -> None:
    a, b = new_token(), new_token()
    assert a.startswith(TOKEN_PREFIX) and b.startswith(TOKEN_PREFIX) and a != b
    assert len(hash_token(a)) == 32 and hash_token(a) == hash_token(a) != hash_token(b)


def test_scopes_are_expanded_in_canonical_order() -> None:
    assert normalise_scopes(["write"]) == ["read", "write"]
    assert normalise_scopes(["admin"]) == ["read", "write", "restore", "admin"]
    assert normalise_scopes(["restore", "read", "read"]) == ["read", "restore"]
    with pytest.raises(ValidationError, match="unknown scope\\(s\\) 'root', 'x'; valid: read, write, restore, admin"):
        normalise_scopes(["read", "root", "x"])
    with pytest.raises(ValidationError, match="at least one"):
        normalise_scopes([])


async def test_a_key_is_created_listed_counted_and_its_token_stored_only_hashed(ctx: ServiceContext) -> None:
    keys = KeyService(ctx)
    assert ctx.auth_failures is keys.failures  # /metrics reads the service's limiter
    key = await keys.create(SYSTEM, "  beamline-app ", ["write"])
    assert key.token is not None and key.token.startswith(TOKEN_PREFIX)
    assert (key.app_name, key.scopes, key.read_access, key.write_access, key.is_active) == (
        "beamline-app",
        ["read", "write"],
        True,
        True,
        True,
    )
    [listed] = await keys.list()
    assert listed.id == key.id and listed.token is None  # shown once, at creation
    assert await keys.count() == {"active": 1, "total": 1}
    async with connection(ctx.pool) as conn:
        cur = await conn.execute("SELECT token_hash FROM api_key WHERE id = %s", (key.id,))
        row = await cur.fetchone()
    assert row is not None and bytes(row[0]) == hash_token(key.token)
    entries, _ = await audit.list_entries(ctx, None, "system", "api_key.create", 10, 0)
    assert [e.resource_id for e in entries] == [str(key.id)]


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [
        (" ", ["read"], "appName must not be empty"),
        ("x" * 256, ["read"], "at most 255 characters"),
        ("app", [], "at least one"),
        ("app", ["superuser"], "unknown scope"),
    ],
)
async def test_bad_keys_are_refused(ctx: ServiceContext, name: str, scopes: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        await KeyService(ctx).create(SYSTEM, name, scopes)
    assert await KeyService(ctx).count() == {"active": 0, "total": 0}


async def test_an_active_name_is_unique_case_insensitively_until_revoked(ctx: ServiceContext) -> None:
    keys = KeyService(ctx)
    first = await keys.create(SYSTEM, "App", ["read"])
    with pytest.raises(ConflictError, match=f"'app' already exists \\(key {first.id}\\)") as caught:
        await keys.create(SYSTEM, "app", ["read"])
    assert caught.value.extra == {"existingId": str(first.id)}
    await keys.revoke(SYSTEM, first.id)
    second = await keys.create(SYSTEM, "app", ["read"])
    assert second.id != first.id
    assert [k.id for k in await keys.list()] == [second.id]
    assert {k.id for k in await keys.list(include_inactive=True)} == {first.id, second.id}
    assert await keys.count() == {"active": 1, "total": 2}


async def test_authenticate_answers_the_principal_and_forgets_it_on_revoke(ctx: ServiceContext) -> None:
    keys = KeyService(ctx)
    key = await keys.create(SYSTEM, "reader", ["restore"])
    assert key.token is not None
    principal = await keys.authenticate(key.token)
    assert principal is not None
    assert (principal.name, principal.scopes, principal.key_id) == ("reader", frozenset({"read", "restore"}), key.id)
    assert (await keys.list())[0].last_used_at is not None  # the first use is recorded
    assert await keys.authenticate(key.token) == principal  # served from the cache
    revoked = await keys.revoke(SYSTEM, key.id)
    assert revoked.is_active is False
    assert await keys.authenticate(key.token) is None  # the cache was cleared by the revocation


async def test_authenticate_refuses_foreign_and_oversized_tokens(ctx: ServiceContext) -> None:
    keys = KeyService(ctx)
    assert await keys.authenticate("") is None
    assert await keys.authenticate("Bearer abc") is None
    assert await keys.authenticate(TOKEN_PREFIX + "x" * 300) is None
    assert await keys.authenticate(new_token()) is None  # well-formed, unknown


async def test_revoking_twice_is_harmless_and_an_unknown_key_is_not_found(ctx: ServiceContext) -> None:
    keys = KeyService(ctx)
    key = await keys.create(SYSTEM, "twice", ["read"])
    await keys.revoke(SYSTEM, key.id)
    again = await keys.revoke(SYSTEM, key.id)
    assert again.id == key.id and again.is_active is False
    entries, _ = await audit.list_entries(ctx, None, None, "api_key.revoke", 10, 0)
    assert len(entries) == 1  # the second revocation changed nothing and is not audited
    missing = uuid4()
    with pytest.raises(NotFoundError, match=f"API key {missing} not found"):
        await keys.revoke(SYSTEM, missing)


async def test_a_watch_fires_once_on_revocation_and_not_after_cancel(ctx: ServiceContext) -> None:
    keys = KeyService(ctx)
    a = await keys.create(SYSTEM, "a", ["read"])
    b = await keys.create(SYSTEM, "b", ["read"])
    fired: list[str] = []
    watch_a = keys.watch(a.id, lambda: fired.append("a"))
    watch_b = keys.watch(b.id, lambda: fired.append("b"))
    watch_b.cancel()
    watch_b.cancel()  # idempotent
    await keys.revoke(SYSTEM, b.id)
    assert fired == []
    await keys.revoke(SYSTEM, a.id)
    assert fired == ["a"]
    await keys.revoke(SYSTEM, a.id)
    watch_a.cancel()
    assert fired == ["a"]
    await asyncio.sleep(0)  # the idle watcher task was cancelled: nothing is left running
    assert keys._watcher is None
