"""The psycopg async pool and the translation of psycopg errors into ours (the db boundary)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import psycopg
from psycopg import errors as pgerr
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from squirrel.db.rows import Conn
from squirrel.errors import ConflictError, NotFoundError, SquirrelError, UnavailableError, ValidationError

# What a database call can raise outside `connection` (a dedicated connection): callers above db catch
# it by this name, so psycopg stays a db detail.
DatabaseError = psycopg.Error


async def _configure(conn: Conn) -> None:
    # jsonb through msgspec, not the json module: a 50K-PV restore's result is megabytes of JSON,
    # written once and read by every GET of the job.
    set_json_dumps(msgspec.json.encode, conn)
    set_json_loads(msgspec.json.decode, conn)
    await conn.execute("SET TIME ZONE 'UTC'")
    # Compare's FULL JOIN and restore's registry join hash a whole snapshot (200K rows, tens of MB): with
    # the 4 MB default, PostgreSQL splits such a hash into batches on disk.
    await conn.execute(f"SET work_mem = '{WORK_MEM}'")
    # A snapshot's rows are one PRIMARY KEY range: read them through the index. With the default 4.0
    # (spinning disks) the planner scans the whole snapshot_value table while few snapshots are stored,
    # so compare, GET and restore cost grew with every other snapshot's rows (8x for 4x the PVs at 200K).
    await conn.execute(f"SET random_page_cost = {RANDOM_PAGE_COST}")
    await conn.commit()


WORK_MEM = "64MB"  # per sort or hash of one query; see _configure
RANDOM_PAGE_COST = 1.1  # the usual value for SSDs and a cached database; see _configure
REQUEST_TIMEOUT = 10.0  # wait for a pooled connection while the database is healthy
OUTAGE_TIMEOUT = 1.0  # ... and while it is known to be down, so callers get their 503 quickly
OUTAGE_MEMORY = 30.0  # seconds a failure keeps the pool in "known down" unless a connection succeeds
PROBE_AFTER = 0.5  # seconds a request waits for a connection before the database is asked whether it lives
PROBE_TIMEOUT = 2  # connect_timeout of that question


class SquirrelPool(AsyncConnectionPool):
    """The pool plus when the database last failed us (cleared by the next connection that works).

    A request that finds no idle connection does not wait the full REQUEST_TIMEOUT blind: after
    PROBE_AFTER one shared liveness probe (a plain connect) asks the database; if it fails, or any
    request meanwhile meets a dead database (mark_down), every waiter gives up at once (before, the
    first request after a failure waited the whole REQUEST_TIMEOUT). A database that answers means the
    pool is merely busy, and the wait goes on."""

    failed_at: float | None = None
    _down: asyncio.Event | None = None
    _probe: asyncio.Task[bool] | None = None

    def mark_down(self) -> None:
        self.failed_at = time.monotonic()
        if self._down is not None:  # wake this generation's waiters; later ones wait on a fresh event
            self._down.set()
            self._down = None

    def mark_up(self) -> None:
        self.failed_at = None

    def known_down(self) -> bool:
        return self.failed_at is not None and time.monotonic() - self.failed_at < OUTAGE_MEMORY

    async def getconn(self, timeout: float | None = None) -> Any:
        if timeout is not None:
            return await super().getconn(timeout)
        if self.known_down():  # during a known outage every caller gets its 503 quickly
            return await super().getconn(OUTAGE_TIMEOUT)
        get = asyncio.ensure_future(super().getconn(REQUEST_TIMEOUT))
        down: asyncio.Future[None] | None = None
        try:
            await asyncio.wait({get}, timeout=PROBE_AFTER)
            if not get.done() and not self.known_down():
                down = asyncio.ensure_future(self._wait_down())
                await asyncio.wait({get, down}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            await self._abandon(get)
            raise
        finally:
            if down is not None:
                down.cancel()
        if get.done():
            return get.result()
        await self._abandon(get)
        raise PoolTimeout("the database stopped answering while this request waited for a connection")

    async def _abandon(self, get: asyncio.Future[Any]) -> None:
        """Cancel a pending getconn; a connection it got in the meantime goes back to the pool."""
        get.cancel()
        try:
            conn = await get
        except (asyncio.CancelledError, Exception):
            return
        await self.putconn(conn)

    async def _wait_down(self) -> None:
        """Return when the database is found down: by a request (mark_down) or by the probe."""
        if self._down is None:
            self._down = asyncio.Event()
        event = self._down
        if not await self._alive():
            self.mark_down()
            return
        await event.wait()

    async def _alive(self) -> bool:
        """One probe at a time, shared by every request waiting now."""
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._connects(), name=f"{self.name}-liveness-probe")
        return await asyncio.shield(self._probe)

    async def _connects(self) -> bool:
        try:
            conninfo = await self._resolve_conninfo()
            conn = await psycopg.AsyncConnection.connect(conninfo, connect_timeout=PROBE_TIMEOUT)
        except psycopg.Error:
            return False
        await conn.close()
        return True


def make_pool(conninfo: str, min_size: int, max_size: int, name: str = "squirrel") -> SquirrelPool:
    """The request pool. Each connection is checked (an empty query) as it leaves the pool, so one that a
    database restart killed is replaced instead of failing its request with a 503."""
    return SquirrelPool(
        conninfo,
        min_size=min_size,
        max_size=max_size,
        open=False,
        name=name,
        configure=_configure,
        check=AsyncConnectionPool.check_connection,
        timeout=REQUEST_TIMEOUT,
        reconnect_timeout=30.0,
    )


async def open_pool(pool: AsyncConnectionPool, timeout: float = 30.0) -> None:
    await pool.open(wait=True, timeout=timeout)


def translate(exc: psycopg.Error) -> SquirrelError | None:
    """Map a psycopg error to the service's error tree (unique violation → 409, ...); None for the rest
    (a bug such as an SQL syntax error: it stays a psycopg error and leaves as a 500)."""
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
    return None


def is_transient(exc: BaseException) -> bool:
    """The database went away (restart, terminated backend): the same work may well succeed later."""
    return isinstance(exc, UnavailableError | psycopg.OperationalError | pgerr.AdminShutdown)


def _constraint_message(constraint: str | None, detail: str | None, fallback: str) -> str:
    if detail:
        return detail
    return f"{fallback} ({constraint})" if constraint else fallback


@asynccontextmanager
async def connection(pool: AsyncConnectionPool) -> AsyncIterator[Conn]:
    """A pooled connection in a transaction; psycopg errors leave as SquirrelErrors.

    A SquirrelPool's wait for a connection ends early when the database is down (see SquirrelPool), so
    every request, the first after a failure included, fails fast with 503."""
    try:
        async with pool.connection() as conn:
            if isinstance(pool, SquirrelPool):
                pool.mark_up()
            yield conn
    except psycopg.Error as exc:
        translated = translate(exc)
        if isinstance(translated, UnavailableError) and isinstance(pool, SquirrelPool):
            pool.mark_down()
        if translated is None:
            raise
        raise translated from exc
