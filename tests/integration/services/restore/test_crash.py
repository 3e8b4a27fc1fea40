"""kill -9 of a real `squirrel serve` during a restore, then a restart: the resumed restore has a
complete backup (or writes nothing), never repeats a write recorded as complete, and leaves exactly
one finish audit row. Writes are counted at the IOC (tests/support/counting_ioc.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import psycopg
import pytest

from squirrel.epics.ca import read_many, write_many
from squirrel.pv import decode_side
from squirrel.tools.sim import free_port
from tests.integration.api.test_jobs import _wait_blocked
from tests.support import ioc as _ioc  # noqa: F401  (sets EPICS_CA_ADDR_LIST first; we append ours)
from tests.support.counting_ioc import CountingIOC
from tests.support.serve_process import create_key as _create_key
from tests.support.serve_process import free_port as _free_port
from tests.support.serve_process import serve_env as _env
from tests.support.serve_process import start_serve as _serve

PORT = free_port()
os.environ["EPICS_CA_ADDR_LIST"] = f"{os.environ['EPICS_CA_ADDR_LIST']} 127.0.0.1:{PORT}"
pytestmark = pytest.mark.usefixtures("ca_purge")
COUNT = 2500  # > 2 write chunks (services/restore_run.WRITE_CHUNK)


@pytest.fixture(scope="module")
def ioc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountingIOC]:
    server = CountingIOC("RK:", PORT, COUNT, tmp_path_factory.mktemp("puts") / "puts.log")
    server.start()
    yield server
    server.stop()


def _serve_env(database_url: str, port: int, roles: str) -> dict[str, str]:
    env = _env(database_url, port)
    env.update(
        SQUIRREL_ROLES=roles,
        SQUIRREL_CA_PUT_TIMEOUT="60",
        SQUIRREL_CA_TIMEOUT="15",
        EPICS_CA_AUTO_ADDR_LIST="NO",
        EPICS_CA_ADDR_LIST=f"127.0.0.1:{PORT}",
    )
    return env


async def _set_all(ioc: CountingIOC, names: list[str], value: float) -> None:
    results = await write_many([(n, value) for n in names], 10.0)
    assert all(r.outcome == "written" for r in results.values()), results


async def _prepare(client: httpx.AsyncClient, ioc: CountingIOC, count: int) -> tuple[list[str], str]:
    """PVs p0..p<count-1> registered and snapshotted at 1.0, then moved to 2.0; (names, snapshot id)."""
    names = [ioc.name(i) for i in range(count)]
    await _set_all(ioc, [ioc.prefix + "delay"], 0.0)
    r = await client.post("/v1/pvs/multi", json=[{"setpointAddress": n} for n in names])
    assert r.status_code == 201, r.text
    ids = [pv["id"] for pv in r.json()]
    await _set_all(ioc, names, 1.0)
    r = await client.post("/v1/snapshots?async=false&use_cache=false", json={"title": "target", "pvIds": ids})
    assert r.status_code == 201, r.text
    await _set_all(ioc, names, 2.0)
    ioc.reset()
    return names, str(r.json()["id"])


@contextlib.asynccontextmanager
async def snapshot_inserts_blocked(database_url: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """Block inserts into `snapshot` (reads go on: the restore request itself reads the snapshot)."""
    conn = await psycopg.AsyncConnection.connect(database_url)
    try:
        await conn.execute("LOCK TABLE snapshot IN EXCLUSIVE MODE")
        yield conn
    finally:
        await conn.rollback()
        await conn.close()


async def _ended(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    """The job once it ended; asserts it completed, showing what went wrong otherwise."""
    deadline = time.monotonic() + 120
    while True:
        job: dict[str, Any] = (await client.get(f"/v1/jobs/{job_id}")).json()
        if job["status"] in ("completed", "failed", "cancelled"):
            errors = Counter(i["error"] for i in (job["result"] or {}).get("items", []) if i["error"])
            assert job["status"] == "completed", (job["error"], errors.most_common(5))
            return job
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.1)


async def _attempt_running(client: httpx.AsyncClient, job_id: str, attempt: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = (await client.get(f"/v1/jobs/{job_id}")).json()
        if job["status"] == "running" and job["attempt"] >= attempt:
            return
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.05)


async def _query(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(sql, params)
        return list(await cur.fetchall())


async def _finish_rows(database_url: str, job_id: str) -> int:
    rows = await _query(
        database_url,
        "SELECT count(*) FROM audit_log WHERE action = 'snapshot.restore.finish' AND summary LIKE %s",
        f"job {job_id} %",
    )
    return int(rows[0][0])


async def _backups(database_url: str) -> list[Any]:
    return [r[0] for r in await _query(database_url, "SELECT id FROM snapshot WHERE 'pre-restore' = ANY(labels)")]


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


async def test_kill_during_backup_then_resumed_restore_has_a_complete_backup(
    database_url: str, ioc: CountingIOC
) -> None:
    count = 200
    port = _free_port()
    env = _serve_env(database_url, port, "api,worker,monitor")
    token = _create_key(env)
    url = f"http://127.0.0.1:{port}"
    proc = await _serve(env, url)
    try:
        async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": token}, timeout=30) as client:
            names, sid = await _prepare(client, ioc, count)
            async with snapshot_inserts_blocked(database_url) as lock:
                r = await client.post(f"/v1/snapshots/{sid}/restore", json={})
                assert r.status_code == 202, r.text
                job_id = r.json()["jobId"]
                await _wait_blocked(lock)  # the backup's INSERT waits on the lock: kill it there
                _kill(proc)
            assert sum(ioc.puts().values()) == 0  # nothing was written before the backup committed
            # The IOC is unreachable while serve restarts and re-dispatches the job, so the monitor's
            # cache is still cold when the resumed attempt takes its backup; then the IOC answers again.
            ioc.pause()
            try:
                proc = await _serve(env, url)
                await _attempt_running(client, job_id, 2)
                await asyncio.sleep(1.0)
            finally:
                ioc.resume()
            job = await _ended(client, job_id)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert job["attempt"] == 2 and job["result"]["successCount"] == count, job
    backup_id = job["result"]["backupSnapshotId"]
    assert [str(b) for b in await _backups(database_url)] == [backup_id]
    stored = await _query(
        database_url, "SELECT setpoint_name, setpoint FROM snapshot_value WHERE snapshot_id = %s", backup_id
    )
    sides = {name: decode_side(raw) for name, raw in stored}
    assert len(sides) == count
    not_backed_up = [n for n, s in sides.items() if not (s.connected and s.has_value and s.value == 2.0)]
    assert not_backed_up == []
    puts = ioc.puts()
    assert set(puts) == set(names) and set(puts.values()) == {1}
    states = await read_many(names, 10.0)
    assert {s.value for s in states.values()} == {1.0}
    assert await _finish_rows(database_url, job_id) == 1


async def test_kill_mid_stage_repeats_no_completed_write(database_url: str, ioc: CountingIOC) -> None:
    port = _free_port()
    env = _serve_env(database_url, port, "api,worker")
    token = _create_key(env)
    url = f"http://127.0.0.1:{port}"
    proc = await _serve(env, url)
    try:
        async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": token}, timeout=30) as client:
            names, sid = await _prepare(client, ioc, COUNT)
            await _set_all(ioc, [ioc.prefix + "delay"], 0.002)  # the stage takes > 5 s, put after put
            r = await client.post(f"/v1/snapshots/{sid}/restore", json={})
            assert r.status_code == 202, r.text
            job_id = r.json()["jobId"]
            await _wait_recorded(database_url, job_id, 1000)
            _kill(proc)
            recorded = {r[0] for r in await _recorded_names(database_url, job_id)}
            assert 1000 <= len(recorded) < COUNT  # killed mid-stage, after the first chunk was recorded
            proc = await _serve(env, url)
            job = await _ended(client, job_id)
    finally:
        proc.kill()
        proc.wait(timeout=10)
        await _set_all(ioc, [ioc.prefix + "delay"], 0.0)
    assert job["attempt"] == 2 and job["result"]["successCount"] == COUNT, job
    puts = ioc.puts()
    assert {n: puts[n] for n in recorded if puts[n] != 1} == {}  # completed writes were not repeated
    assert set(puts) == set(names) and max(puts.values()) <= 2  # in-flight writes repeated at most once
    states = await read_many(names, 10.0)
    assert {s.value for s in states.values()} == {1.0}
    assert [str(b) for b in await _backups(database_url)] == [job["result"]["backupSnapshotId"]]
    assert await _finish_rows(database_url, job_id) == 1


async def _recorded_names(database_url: str, job_id: str) -> list[tuple[Any, ...]]:
    return await _query(
        database_url,
        "SELECT p.setpoint_address FROM restore_item i JOIN pv p ON p.id = i.pv_id WHERE i.job_id = %s",
        job_id,
    )


async def _wait_recorded(database_url: str, job_id: str, at_least: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        rows = await _query(database_url, "SELECT count(*) FROM restore_item WHERE job_id = %s", job_id)
        if rows[0][0] >= at_least:
            return
        assert time.monotonic() < deadline, f"only {rows[0][0]} outcomes recorded"
        await asyncio.sleep(0.02)
