"""API keys: creation (token shown once), hashing, authentication with a short in-memory cache, and
watches that end open streams when their key is revoked."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import structlog

from squirrel.db import keys as keys_db
from squirrel.db.pool import connection
from squirrel.errors import ConflictError, NotFoundError, ValidationError
from squirrel.model import SCOPES, ApiKey, Principal, expand_scopes
from squirrel.services import audit
from squirrel.services._ratelimit import FailedAttemptLimiter
from squirrel.services.context import ServiceContext

log = structlog.get_logger(__name__)
TOKEN_PREFIX = "sq_"
_CACHE_TTL = 5.0  # seconds a resolved key is trusted without a DB look-up
# Open streams re-check their key this often, so a revocation (here or in another process) ends them
# no later than a cached key would stop working for plain requests.
WATCH_INTERVAL = _CACHE_TTL
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


class KeyWatch:
    """One open stream's interest in its key: `on_revoke` runs once if the key is revoked."""

    def __init__(self, service: KeyService, key_id: UUID, on_revoke: Callable[[], None]) -> None:
        self.service = service
        self.key_id = key_id
        self.on_revoke = on_revoke

    def cancel(self) -> None:
        """The stream ended: stop watching (idempotent)."""
        self.service._unwatch(self)


class KeyService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._cache: dict[bytes, tuple[float, Principal | None]] = {}
        self._touched: dict[UUID, float] = {}
        self._watches: dict[UUID, set[KeyWatch]] = {}
        self._watcher: asyncio.Task[None] | None = None
        self.failures = FailedAttemptLimiter()
        ctx.auth_failures = self.failures  # read by /metrics

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
        self._revoked(key_id)
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

    def watch(self, key_id: UUID, on_revoke: Callable[[], None]) -> KeyWatch:
        """Call `on_revoke` once when the key is revoked: at once for a revocation by this process, within
        WATCH_INTERVAL for one by another process (one look-up per watched key per interval)."""
        watch = KeyWatch(self, key_id, on_revoke)
        self._watches.setdefault(key_id, set()).add(watch)
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(self._watch_loop(), name="squirrel-key-watch")
        return watch

    def _unwatch(self, watch: KeyWatch) -> None:
        watches = self._watches.get(watch.key_id)
        if watches is None or watch not in watches:
            return
        watches.discard(watch)
        if not watches:
            del self._watches[watch.key_id]
        self._stop_if_idle()

    def _revoked(self, key_id: UUID) -> None:
        for watch in self._watches.pop(key_id, set()):
            watch.on_revoke()
        self._stop_if_idle()

    def _stop_if_idle(self) -> None:
        # The loop exists only while streams are open; nothing is left running when the app stops.
        task = self._watcher
        if not self._watches and task is not None and task is not asyncio.current_task():
            task.cancel()
            self._watcher = None

    async def _watch_loop(self) -> None:
        while self._watches:
            await asyncio.sleep(WATCH_INTERVAL)
            try:
                revoked = await self._inactive(set(self._watches))
            except Exception as exc:  # a database outage keeps streams open rather than killing them all
                log.warning("could not re-check the keys of open streams", error=str(exc))
                continue
            for key_id in revoked:
                self._revoked(key_id)

    async def _inactive(self, key_ids: set[UUID]) -> set[UUID]:
        out = set()
        async with connection(self.ctx.pool) as conn:
            for key_id in key_ids:
                row = await keys_db.get(conn, key_id)
                if row is None or not row["is_active"]:
                    out.add(key_id)
        return out
