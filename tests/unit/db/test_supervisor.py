"""The embedded-PostgreSQL supervisor's state machine: down → restart attempts with doubling, capped backoff
(each failure named in `reason`) → up; hooks run in order and one failing hook stops none of the others.

The postmaster here is scripted (which restarts fail, and how): the real one is killed and restarted in
tests/e2e/db/test_embedded_supervision.py; these tests pin the backoff and messages that test cannot
reach in seconds.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from squirrel.db import supervisor as sup
from squirrel.db.embedded import EmbeddedPostgres
from squirrel.db.supervisor import EmbeddedSupervisor
from squirrel.errors import UnavailableError


class ScriptedPostgres(EmbeddedPostgres):
    """Dead from the start; `restart` raises the scripted failures in turn, then returns the new PID."""

    def __init__(self, tmp: Path, failures: list[Exception], new_pid: int = 4242) -> None:
        super().__init__(tmp)
        self.failures = list(failures)
        self.new_pid = new_pid
        self.running = False
        self.attempts = 0
        self.reasons: list[str | None] = []  # the supervisor's reason as each attempt started
        self.supervisor: EmbeddedSupervisor | None = None
        self.gate: threading.Event | None = None  # when set, restart waits for it
        self.entered = threading.Event()  # a restart has begun

    def pid(self) -> int | None:
        return 4100

    def is_running(self) -> bool:
        return self.running

    def restart(self) -> int:
        self.attempts += 1
        self.entered.set()
        self.reasons.append(self.supervisor.reason if self.supervisor else None)
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.failures:
            raise self.failures.pop(0)
        self.running = True
        return self.new_pid


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sup, "BACKOFF_FIRST", 0.001)
    monkeypatch.setattr(sup, "BACKOFF_MAX", 0.004)


def _supervised(tmp_path: Path, failures: list[Exception]) -> tuple[EmbeddedSupervisor, ScriptedPostgres]:
    pg = ScriptedPostgres(tmp_path, failures)
    supervisor = EmbeddedSupervisor(pg, interval=0.01)
    pg.supervisor = supervisor
    return supervisor, pg


async def test_failed_restarts_back_off_doubling_up_to_the_cap_and_say_why(tmp_path: Path, fast_backoff: None) -> None:
    failures: list[Exception] = [
        UnavailableError("embedded PostgreSQL did not restart: socket taken"),
        OSError("disk full"),
        UnavailableError("again"),
        UnavailableError("and again"),
    ]
    supervisor, pg = _supervised(tmp_path, failures)
    assert supervisor.healthy and supervisor.restarts == 0
    await supervisor._recover()
    assert pg.attempts == 5
    first, *later = pg.reasons
    assert first == "the embedded PostgreSQL (pid 4100) is not running; restarting it"
    assert later == [
        "the embedded PostgreSQL (pid 4100) is not running; restart attempt 1 failed "
        "(embedded PostgreSQL did not restart: socket taken); next attempt in 0.001 s",
        # not a SquirrelError: named by its type
        "the embedded PostgreSQL (pid 4100) is not running; restart attempt 2 failed "
        "(OSError: disk full); next attempt in 0.002 s",
        "the embedded PostgreSQL (pid 4100) is not running; restart attempt 3 failed (again); next attempt in 0.004 s",
        # capped: BACKOFF_MAX, not 0.008
        "the embedded PostgreSQL (pid 4100) is not running; restart attempt 4 failed (and again); "
        "next attempt in 0.004 s",
    ]
    assert supervisor.healthy and supervisor.reason is None and supervisor.restarts == 1


async def test_hooks_run_down_then_up_sync_and_async_and_a_failing_one_is_skipped(
    tmp_path: Path, fast_backoff: None
) -> None:
    supervisor, pg = _supervised(tmp_path, [UnavailableError("once")])
    calls: list[str] = []

    def broken() -> None:
        raise RuntimeError("hook bug")

    async def async_down() -> None:
        calls.append(f"async down, healthy={supervisor.healthy}")

    async def async_up() -> None:
        calls.append(f"async up, healthy={supervisor.healthy}, restarts={supervisor.restarts}")

    supervisor.on_down += [broken, async_down, lambda: calls.append("sync down")]
    supervisor.on_up += [lambda: calls.append("sync up"), broken, async_up]
    await supervisor._recover()
    assert calls == ["async down, healthy=False", "sync down", "sync up", "async up, healthy=True, restarts=1"]
    assert pg.attempts == 2


async def test_the_watch_notices_a_dead_postmaster_and_recovers_it(tmp_path: Path, fast_backoff: None) -> None:
    supervisor, pg = _supervised(tmp_path, [])
    up = asyncio.Event()
    supervisor.on_up.append(up.set)
    supervisor.start()
    try:
        await asyncio.wait_for(up.wait(), 10)
        assert pg.running and supervisor.restarts == 1 and supervisor.healthy
    finally:
        await supervisor.stop()
    assert supervisor._task is None
    await supervisor.stop()  # stopping twice is harmless


async def test_stop_waits_for_a_restart_in_progress(tmp_path: Path, fast_backoff: None) -> None:
    supervisor, pg = _supervised(tmp_path, [])
    pg.gate = threading.Event()
    supervisor.start()
    try:
        # The watch finds the postmaster dead and starts restarting it (in a thread).
        assert await asyncio.to_thread(pg.entered.wait, 10)
        stopping = asyncio.create_task(supervisor.stop())
        await asyncio.sleep(0.05)
        assert not stopping.done()  # the restart (in its thread) is let finish
    finally:
        pg.gate.set()
    await asyncio.wait_for(stopping, 10)
    assert pg.running  # the restart completed before stop() returned
    assert supervisor.restarts == 0  # the watch itself was cancelled: it never saw the server back


async def test_stop_before_start_does_nothing(tmp_path: Path) -> None:
    supervisor, pg = _supervised(tmp_path, [])
    await supervisor.stop()
    assert pg.attempts == 0 and supervisor.healthy
