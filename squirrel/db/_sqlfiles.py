"""Locate the sql/ folder: the repo's top level in a checkout, squirrel/_sql in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def sql_dir() -> Path:
    for candidate in (_PACKAGE_DIR / "_sql", _PACKAGE_DIR.parent / "sql"):
        if (candidate / "migrations").is_dir():
            return candidate
    raise FileNotFoundError("sql/ folder not found beside the squirrel package")
