"""Keeps the embedded PostgreSQL running: a dead postmaster is restarted, with backoff, and logged.

Without it a killed postmaster left `serve` answering 503 for ever. While the server is down, `reason`
says so (for /readyz) and the pool is told at once, so requests fail fast instead of waiting for it;
once it is back, the pool drops its connections to the dead server and the service carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from squirrel.db.embedded import EmbeddedPostgres
from squirrel.errors import SquirrelError

log = structlog.get_logger(__name__)
CHECK_INTERVAL = 1.0  # seconds between two looks at the postmaster (a psutil call, no I/O to the server)
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0

Hook = Callable[[], Awaitable[object] | object]


class EmbeddedSupervisor:
    def __init__(self, embedded: EmbeddedPostgres, *, interval: float = CHECK_INTERVAL) -> None:
        self.embedded = embedded
        self.interval = interval
        self.reason: str | None = None  # why the database is down, while it is
        self.restarts = 0
        self.on_down: list[Hook] = []
        self.on_up: list[Hook] = []
        self._task: asyncio.Task[None] | None = None
        self._restarting: asyncio.Future[int] | None = None

    @property
    def healthy(self) -> bool:
        return self.reason is None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="embedded-postgres-supervisor")

    async def stop(self) -> None:
        """Stop watching; a restart in progress is let finish so the server can then be stopped cleanly."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._restarting is not None:
            with contextlib.suppress(Exception):
                await self._restarting

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if not self.embedded.is_running():
                await self._recover()

    async def _recover(self) -> None:
        dead_pid = self.embedded.pid()
        self.reason = f"the embedded PostgreSQL (pid {dead_pid}) is not running; restarting it"
        log.error("embedded postgres died; restarting it", pid=dead_pid, pgdata=str(self.embedded.pgdata))
        await _run_hooks(self.on_down)
        delay = BACKOFF_FIRST
        attempt = 0
        while True:
            attempt += 1
            self._restarting = asyncio.ensure_future(asyncio.to_thread(self.embedded.restart))
            try:
                # shield: a shutdown during the restart waits for it (stop()) instead of racing it.
                pid = await asyncio.shield(self._restarting)
                break
            except Exception as exc:  # UnavailableError, or the wheel's own OSError/assertion
                detail = exc.detail if isinstance(exc, SquirrelError) else f"{type(exc).__name__}: {exc}"
                self.reason = (
                    f"the embedded PostgreSQL (pid {dead_pid}) is not running; restart attempt {attempt} "
                    f"failed ({detail}); next attempt in {delay:g} s"
                )
                log.warning("embedded postgres restart failed", attempt=attempt, error=detail, retry_in=delay)
            finally:
                if self._restarting.done():
                    self._restarting = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)
        self.restarts += 1
        self.reason = None
        log.warning("embedded postgres restarted", pid=pid, attempts=attempt, dead_pid=dead_pid)
        await _run_hooks(self.on_up)


async def _run_hooks(hooks: list[Hook]) -> None:
    for hook in hooks:
        try:
            result = hook()
            if asyncio.iscoroutine(result):
                await result
        except Exception:  # one failing hook must not stop the supervisor
            log.exception("embedded postgres supervisor hook failed")
