"""The psycopg async pool and the translation of psycopg errors into ours (the db boundary)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg import errors as pgerr
from psycopg_pool import AsyncConnectionPool

from squirrel.errors import ConflictError, NotFoundError, UnavailableError, ValidationError


async def _configure(conn: psycopg.AsyncConnection[object]) -> None:
    await conn.execute("SET TIME ZONE 'UTC'")
    await conn.commit()


REQUEST_TIMEOUT = 10.0  # wait for a pooled connection while the database is healthy
OUTAGE_TIMEOUT = 1.0  # ... and while it is known to be down, so callers get their 503 quickly
OUTAGE_MEMORY = 30.0  # seconds a failure keeps the pool in "known down" unless a connection succeeds


class SquirrelPool(AsyncConnectionPool):
    """The pool plus when the database last failed us (cleared by the next connection that works)."""

    failed_at: float | None = None

    def mark_down(self) -> None:
        self.failed_at = time.monotonic()

    def known_down(self) -> bool:
        return self.failed_at is not None and time.monotonic() - self.failed_at < OUTAGE_MEMORY


def make_pool(conninfo: str, min_size: int, max_size: int, name: str = "squirrel") -> SquirrelPool:
    return SquirrelPool(
        conninfo,
        min_size=min_size,
        max_size=max_size,
        open=False,
        name=name,
        configure=_configure,
        timeout=REQUEST_TIMEOUT,
        reconnect_timeout=30.0,
    )


async def open_pool(pool: AsyncConnectionPool, timeout: float = 30.0) -> None:
    await pool.open(wait=True, timeout=timeout)


def translate(exc: psycopg.Error) -> Exception:
    """Map a psycopg error to the service's error tree (unique violation → 409, ...)."""
    diag = exc.diag
    if isinstance(exc, pgerr.UniqueViolation):
        return ConflictError(_constraint_message(diag.constraint_name, diag.message_detail, "already exists"))
    if isinstance(exc, pgerr.ForeignKeyViolation):
        return ValidationError(_constraint_message(diag.constraint_name, diag.message_detail, "unknown reference"))
    if isinstance(exc, pgerr.CheckViolation | pgerr.NotNullViolation | pgerr.StringDataRightTruncation):
        return ValidationError(diag.message_primary or str(exc))
    if isinstance(exc, psycopg.DataError) or (exc.sqlstate or "").startswith("22"):
        # SQLSTATE class 22 (NUL, numeric out of range, untranslatable character, ...) and psycopg's
        # own client-side DataErrors: the input cannot be stored, so it is the caller's 400.
        # (errors.DataException is SQLSTATE 22000 alone, not the class.)
        column = f" (field {diag.column_name})" if diag.column_name else ""
        return ValidationError(f"a value cannot be stored{column}: {diag.message_primary or exc}")
    if isinstance(exc, pgerr.NoDataFound):
        return NotFoundError(diag.message_primary or str(exc))
    if isinstance(exc, psycopg.OperationalError | pgerr.AdminShutdown | pgerr.CannotConnectNow):
        return UnavailableError(f"database unavailable: {diag.message_primary or exc}")
    return exc


def _constraint_message(constraint: str | None, detail: str | None, fallback: str) -> str:
    if detail:
        return detail
    return f"{fallback} ({constraint})" if constraint else fallback


@asynccontextmanager
async def connection(pool: AsyncConnectionPool) -> AsyncIterator[psycopg.AsyncConnection[object]]:
    """A pooled connection in a transaction; psycopg errors leave as SquirrelErrors.

    During a known outage the wait for a connection is short, so every request fails fast with 503
    instead of each one waiting the full pool timeout."""
    down = isinstance(pool, SquirrelPool) and pool.known_down()
    try:
        async with pool.connection(timeout=OUTAGE_TIMEOUT if down else None) as conn:
            if isinstance(pool, SquirrelPool):
                pool.failed_at = None
            yield conn
    except psycopg.Error as exc:
        translated = translate(exc)
        if isinstance(translated, UnavailableError) and isinstance(pool, SquirrelPool):
            pool.mark_down()
        if translated is exc:
            raise
        raise translated from exc
