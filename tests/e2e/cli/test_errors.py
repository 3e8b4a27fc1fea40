"""Errors a person can act on, from real processes: one line on stderr saying what to do, non-zero exit.

Also: one data folder has one service (a second `serve` or `demo` on it refuses), while one-shot
commands keep joining the running embedded database.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.cli.test_serve import _env, _free_port, _squirrel
from tests.support.scratch import scratch_dir

BAD_URL = "postgresql://squirrel:secret@127.0.0.1:{port}/squirrel"


def _run(args: list[str], env: dict[str, str], timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_squirrel(*args), env=env, capture_output=True, text=True, timeout=timeout)


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The failure's stderr, which must be exactly one line starting `squirrel: error:`."""
    assert result.returncode != 0, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("squirrel: error: "), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


def _wait_ready(proc: subprocess.Popen[str], port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("/readyz never answered 200")


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with scratch_dir("squirrel-e2e-") as path:
        yield path


@pytest.fixture
def running(data_dir: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = _free_port()
    proc = subprocess.Popen(
        _squirrel("serve", "--port", str(port)),
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_ready(proc, port)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)


def test_second_service_on_one_data_folder_refuses_and_cli_still_joins(
    running: tuple[subprocess.Popen[str], int], data_dir: Path
) -> None:
    proc, port = running
    env = _env(data_dir)
    started = time.monotonic()
    second = _run(["serve", "--port", str(_free_port())], env)
    line = _one_line_error(second)
    assert f"data folder {data_dir} is in use by a running squirrel service (pid {proc.pid})" in line, line
    assert "--data-dir" in line
    demo = _run(["demo", "--pvs", "4", "--port", str(_free_port())], env)
    assert f"pid {proc.pid}" in _one_line_error(demo)
    assert time.monotonic() - started < 30  # refused before starting anything (no simulator, no database)
    # One-shot commands take no lock: they join the running database.
    created = _run(["keys", "create", "beside", "--scopes", "read"], env)
    assert created.returncode == 0 and created.stdout.strip().splitlines()[-1].startswith("sq_"), created.stderr
    assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
    # The lock dies with its process, however it dies.
    proc.kill()
    proc.wait(timeout=10)
    port2 = _free_port()
    third = subprocess.Popen(
        _squirrel("serve", "--port", str(port2)), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        _wait_ready(third, port2)
    finally:
        third.send_signal(signal.SIGTERM)
        third.communicate(timeout=30)


def test_taken_port_is_refused_before_anything_starts(data_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run(["serve", "--port", str(port)], _env(data_dir))
        line = _one_line_error(result)
        assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in line and "--port" in line
        assert not (data_dir / "postgres").exists()  # no database started, no migrations ran
        demo = _run(["demo", "--pvs", "4", "--port", str(port)], _env(data_dir))
        assert f"cannot listen on 127.0.0.1:{port}" in _one_line_error(demo)
    line = _one_line_error(_run(["serve", "--host", "no-such-host.invalid", "--port", "8080"], _env(data_dir)))
    assert "cannot listen on no-such-host.invalid:8080" in line and "SQUIRREL_HOST" in line


def test_bad_database_url_is_one_line_for_every_command(data_dir: Path) -> None:
    env = _env(data_dir)
    env["SQUIRREL_DATABASE_URL"] = BAD_URL.format(port=_free_port())  # nothing listens there
    demo = ["demo", "--pvs", "4", "--port", str(_free_port())]
    for args in (["serve", "--port", str(_free_port())], ["migrate"], ["keys", "list"], demo):
        line = _one_line_error(_run(args, env))
        assert "cannot connect to the database postgresql://squirrel:***@127.0.0.1" in line, line
        assert "Connection refused" in line and "SQUIRREL_DATABASE_URL" in line
        assert "secret" not in line
    env["SQUIRREL_DATABASE_URL"] = "not a url"
    line = _one_line_error(_run(["serve", "--port", str(_free_port())], env))
    assert "SQUIRREL_DATABASE_URL is not a PostgreSQL URL" in line and "postgresql://USER" in line


def test_check_config_tests_the_database(data_dir: Path) -> None:
    env = _env(data_dir)
    ok = _run(["check-config"], env)
    assert ok.returncode == 0, ok.stderr
    assert '"data_dir": "' + str(data_dir) in ok.stdout
    assert ok.stderr.strip().splitlines()[-1].startswith("database: ok, embedded PostgreSQL 1")
    env["SQUIRREL_DATABASE_URL"] = BAD_URL.format(port=_free_port())
    bad = _run(["check-config"], env)
    assert '"database_url": "postgresql://squirrel:***@' in bad.stdout  # the config is still shown
    assert "cannot connect to the database" in _one_line_error(bad)


def test_duplicate_key_name_is_one_line(data_dir: Path) -> None:
    env = _env(data_dir)
    first = _run(["keys", "create", "ops"], env)
    assert first.returncode == 0, first.stderr
    line = _one_line_error(_run(["keys", "create", "OPS"], env))
    assert "an active API key named 'OPS' already exists (key " in line and "revoke" in line
    assert "lower(app_name)" not in line


def test_several_services_share_one_external_database(data_dir: Path, database_url: str) -> None:
    env = {**_env(data_dir), "SQUIRREL_DATABASE_URL": database_url}  # one data folder too: no lock then
    procs: list[tuple[subprocess.Popen[str], int]] = []
    try:
        for _ in range(2):
            port = _free_port()
            proc = subprocess.Popen(
                _squirrel("serve", "--port", str(port)),
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            procs.append((proc, port))
        for proc, port in procs:
            _wait_ready(proc, port)
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
    assert not (data_dir / "squirrel.lock").exists()
