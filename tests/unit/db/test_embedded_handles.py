"""The wheel's list of the embedded server's users forgets processes that are gone (a SIGKILLed `serve`
never removes itself), so the last live user's clean stop stops the server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from squirrel.db.embedded import EmbeddedPostgres, _wheel


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _handles(tmp_path: Path, content: str) -> tuple[EmbeddedPostgres, Path]:
    embedded = EmbeddedPostgres(tmp_path)
    embedded.pgdata.mkdir()
    path = embedded.pgdata / ".handle_pids.json"
    path.write_text(content)
    return embedded, path


def test_dead_users_are_forgotten_live_ones_kept(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        embedded, path = _handles(tmp_path, json.dumps([_dead_pid(), sleeper.pid, os.getpid()]))
        embedded._forget_dead_handles(_wheel())
        assert json.loads(path.read_text()) == [sleeper.pid, os.getpid()]
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_torn_list_counts_nobody(tmp_path: Path) -> None:
    embedded, path = _handles(tmp_path, "[12")
    embedded._forget_dead_handles(_wheel())
    assert json.loads(path.read_text()) == []
