"""The psycopg async pool and the translation of psycopg errors into ours (the db boundary)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg import errors as pgerr
from psycopg_pool import AsyncConnectionPool

from squirrel.errors import ConflictError, NotFoundError, UnavailableError, ValidationError


async def _configure(conn: psycopg.AsyncConnection[object]) -> None:
    await conn.execute("SET TIME ZONE 'UTC'")
    await conn.commit()


def make_pool(conninfo: str, min_size: int, max_size: int, name: str = "squirrel") -> AsyncConnectionPool:
    return AsyncConnectionPool(
        conninfo,
        min_size=min_size,
        max_size=max_size,
        open=False,
        name=name,
        configure=_configure,
        timeout=10.0,
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
    if isinstance(exc, pgerr.InvalidTextRepresentation | pgerr.DataException):
        return ValidationError(diag.message_primary or str(exc))
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
    """A pooled connection in a transaction; psycopg errors leave as SquirrelErrors."""
    try:
        async with pool.connection() as conn:
            yield conn
    except psycopg.Error as exc:
        translated = translate(exc)
        if translated is exc:
            raise
        raise translated from exc
    except (TimeoutError, psycopg.errors.ConnectionTimeout) as exc:
        raise UnavailableError("database unavailable: no connection within the pool timeout") from exc
