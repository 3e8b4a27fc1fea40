"""The data folder lock: one holder at a time, named in the refusal, free again once released."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from squirrel.db.embedded import DataFolderLock
from squirrel.errors import ConflictError


def test_one_holder_at_a_time(tmp_path: Path) -> None:
    first, second = DataFolderLock(tmp_path / "data"), DataFolderLock(tmp_path / "data")
    first.acquire()
    assert (tmp_path / "data" / "squirrel.lock").read_text().strip() == str(os.getpid())
    with pytest.raises(ConflictError) as refused:
        second.acquire()
    assert f"in use by a running squirrel service (pid {os.getpid()})" in (refused.value.detail or "")
    first.release()
    second.acquire()  # released: free again
    other = DataFolderLock(tmp_path / "other")
    other.acquire()  # another folder is another claim, even while this one is held
    other.release()
    second.release()
