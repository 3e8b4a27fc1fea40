"""The job locks of one worker process: session advisory locks on one dedicated connection.

A running job holds its lock so that recover() and the SAQ sweep of any worker (this one or a peer) leave
it alone. A session lock lives only as long as its connection: when PostgreSQL restarts (or the backend is
terminated) every lock is gone while the jobs carry on. So the connection is checked before use and every
LOCK_CHECK_INTERVAL seconds (keep()); a dead one is replaced and the locks of the jobs still held here are
taken again on the fresh one. A failed statement on a connection that looked alive (the server died
since it was last used) is retried once on a fresh connection, so the first job after a restart runs
without a failed attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

import psycopg
import structlog

from squirrel.db import jobs as jobs_db
from squirrel.jobs._tasks import lock_key

log = structlog.get_logger(__name__)
LOCK_CHECK_INTERVAL = 1.0  # seconds between two checks of the lock connection (one `SELECT 1`)
APPLICATION_NAME = "squirrel-job-locks"  # names the lock connection in pg_stat_activity
CONNECT_TIMEOUT = 5  # seconds: an unreachable server must not hold the lock guard (and every job) for long

T = TypeVar("T")
Conn = psycopg.AsyncConnection[Any]


class JobLocks:
    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.held: set[UUID] = set()  # the jobs whose lock this process holds (taken again on a reconnect)
        self.reconnects = 0
        self._conn: Conn | None = None
        self._guard = asyncio.Lock()  # one statement at a time on the one connection
        self._down = False  # keep() found the database away (logged once per outage)

    async def open(self) -> None:
        async with self._guard:
            await self._connection()

    async def close(self) -> None:
        async with self._guard:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    await self._conn.close()
                self._conn = None

    @property
    def backend_pid(self) -> int | None:
        """The server process of the lock connection (None before the first connect)."""
        conn = self._conn
        return None if conn is None or conn.closed else conn.info.backend_pid

    async def try_lock(self, job_id: UUID) -> bool:
        async with self._guard:
            locked = await self._run(lambda conn: jobs_db.try_lock(conn, lock_key(job_id)))
            if locked:
                self.held.add(job_id)
            return locked

    async def unlock(self, job_id: UUID) -> None:
        async with self._guard:
            self.held.discard(job_id)  # first: a reconnect meanwhile must not take it again
            try:
                await self._run(lambda conn: jobs_db.unlock(conn, lock_key(job_id)))
            except psycopg.Error as exc:
                # A lost connection released its locks anyway.
                log.warning("could not release job lock", job_id=str(job_id), error=str(exc))

    async def keep(self) -> None:
        """Check the lock connection; a dead one is replaced and the held locks are taken again."""
        async with self._guard:
            try:
                await self._run(_ping)
            except psycopg.Error as exc:
                if not self._down:  # once per outage, not every second
                    log.warning("job lock connection down; retrying", error=str(exc), held=len(self.held))
                self._down = True
                return
        if self._down:
            self._down = False
            log.info("job lock connection back", held=len(self.held))

    async def _run(self, statement: Callable[[Conn], Awaitable[T]]) -> T:
        conn = await self._connection()
        try:
            return await statement(conn)
        except psycopg.OperationalError as exc:
            # The server went away since the connection was last used (a restart, a terminated backend).
            log.info("job lock connection lost; reconnecting", error=str(exc))
            return await statement(await self._reconnect())

    async def _connection(self) -> Conn:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            conn = await self._reconnect()
        return conn

    async def _reconnect(self) -> Conn:
        old, self._conn = self._conn, None
        if old is not None:
            with contextlib.suppress(Exception):
                await old.close()  # releases whatever it may still hold, before the fresh session retakes it
        conn = await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT, application_name=APPLICATION_NAME
        )
        self._conn = conn
        if old is not None:
            self.reconnects += 1
        await self._retake(conn)
        return conn

    async def _retake(self, conn: Conn) -> None:
        """Take the locks of the jobs still running here again: the dead session's went with it."""
        if not self.held:
            return
        lost = [job_id for job_id in sorted(self.held) if not await jobs_db.try_lock(conn, lock_key(job_id))]
        for job_id in lost:
            # Another worker took it while the database was away: it now owns the job.
            self.held.discard(job_id)
            log.error("a running job's lock was taken by another worker after a reconnect", job_id=str(job_id))
        if self.held:
            log.warning("job locks taken again after a reconnect", count=len(self.held))


async def _ping(conn: Conn) -> None:
    await conn.execute("SELECT 1")
