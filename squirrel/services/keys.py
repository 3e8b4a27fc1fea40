"""API keys: creation (token shown once), hashing, authentication with a short in-memory cache."""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any
from uuid import UUID

from squirrel.db import keys as keys_db
from squirrel.db.pool import connection
from squirrel.errors import ConflictError, NotFoundError, ValidationError
from squirrel.model import SCOPES, ApiKey, Principal, expand_scopes
from squirrel.services import audit
from squirrel.services.context import ServiceContext

TOKEN_PREFIX = "sq_"
_CACHE_TTL = 5.0  # seconds a resolved key is trusted without a DB look-up
_TOUCH_EVERY = 60.0  # last_used_at is written at most once a minute per key
SYSTEM = Principal(name="system", scopes=frozenset(SCOPES))


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _to_dto(row: dict[str, Any], token: str | None = None) -> ApiKey:
    scopes = sorted(expand_scopes(row["scopes"]), key=SCOPES.index)
    return ApiKey(
        id=row["id"],
        app_name=row["app_name"],
        scopes=scopes,
        read_access="read" in scopes,
        write_access="write" in scopes,
        is_active=row["is_active"],
        created_at=row["created_at"],
        last_used_at=row.get("last_used_at"),
        token=token,
    )


def normalise_scopes(scopes: list[str]) -> list[str]:
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValidationError(f"unknown scope(s) {', '.join(map(repr, unknown))}; valid: {', '.join(SCOPES)}")
    if not scopes:
        raise ValidationError("scopes must name at least one of read, write, restore, admin")
    return sorted(expand_scopes(scopes), key=SCOPES.index)


class KeyService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._cache: dict[bytes, tuple[float, Principal | None]] = {}
        self._touched: dict[UUID, float] = {}

    async def create(self, actor: Principal, app_name: str, scopes: list[str]) -> ApiKey:
        name = app_name.strip()
        if not name:
            raise ValidationError("appName must not be empty or whitespace")
        if len(name) > 255:
            raise ValidationError("appName must be at most 255 characters")
        scope_list = normalise_scopes(scopes)
        token = new_token()
        try:
            async with connection(self.ctx.pool) as conn:
                row = await keys_db.insert(conn, name, hash_token(token), scope_list)
                await audit.record(conn, actor, "api_key.create", "api_key", row["id"], f"{name} {scope_list}")
        except ConflictError:  # the unique index on active names; say which key holds the name
            same = [k for k in await self.list() if k.app_name.lower() == name.lower()]
            holder = f" (key {same[0].id})" if same else ""
            raise ConflictError(
                f"an active API key named {name!r} already exists{holder}; names are case-insensitive: "
                "choose another name, or revoke that key first",
                existingId=str(same[0].id) if same else None,
            ) from None
        return _to_dto(row, token)

    async def list(self, include_inactive: bool = False) -> list[ApiKey]:
        async with connection(self.ctx.pool) as conn:
            rows = await keys_db.list_all(conn, include_inactive)
        return [_to_dto(r) for r in rows]

    async def count(self) -> dict[str, int]:
        async with connection(self.ctx.pool) as conn:
            row = await keys_db.count(conn)
        return {"active": int(row["active"]), "total": int(row["total"])}

    async def revoke(self, actor: Principal, key_id: UUID) -> ApiKey:
        async with connection(self.ctx.pool) as conn:
            row = await keys_db.revoke(conn, key_id)
            if row is None:
                existing = await keys_db.get(conn, key_id)
                if existing is None:
                    raise NotFoundError(f"API key {key_id} not found")
                return _to_dto(existing)  # revoking twice is harmless
            await audit.record(conn, actor, "api_key.revoke", "api_key", key_id, row["app_name"])
        self._cache.clear()
        return _to_dto(row)

    async def authenticate(self, token: str) -> Principal | None:
        """The principal for a token, or None when unknown or revoked."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        digest = hash_token(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and now - cached[0] < _CACHE_TTL:
            return cached[1]
        async with connection(self.ctx.pool) as conn:
            row = await keys_db.by_hash(conn, digest)
            principal = None
            if row is not None and row["is_active"]:
                principal = Principal(row["app_name"], expand_scopes(row["scopes"]), row["id"])
                if now - self._touched.get(row["id"], -_TOUCH_EVERY) >= _TOUCH_EVERY:
                    self._touched[row["id"]] = now
                    await keys_db.touch(conn, row["id"])
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now, principal)
        return principal
