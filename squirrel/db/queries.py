"""Named SQL queries loaded from sql/queries/*.sql (`-- name: foo` headers) at import."""

from __future__ import annotations

import re
from pathlib import Path
from typing import LiteralString

from squirrel.db._sqlfiles import sql_dir

_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def parse_queries(text: str, source: str = "<string>") -> dict[str, str]:
    """Split one .sql file into {name: statement}; text before the first header is ignored."""
    parts = _HEADER.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        statement = body.strip().rstrip(";").strip()
        if not statement:
            raise ValueError(f"{source}: query {name!r} is empty")
        if name in queries:
            raise ValueError(f"{source}: query {name!r} defined twice")
        queries[name] = statement
    return queries


def load_queries(folder: Path) -> dict[str, str]:
    queries: dict[str, str] = {}
    for path in sorted(folder.glob("*.sql")):
        for name, statement in parse_queries(path.read_text(encoding="utf-8"), str(path)).items():
            if name in queries:
                raise ValueError(f"{path}: query {name!r} already defined in another file")
            queries[name] = statement
    return queries


_QUERIES = load_queries(sql_dir() / "queries")


def q(name: str) -> LiteralString:
    """The statement named `name`. The files are ours, so the text is trusted like a literal."""
    try:
        return _QUERIES[name]  # type: ignore[return-value]
    except KeyError:
        raise KeyError(f"no SQL query named {name!r} in sql/queries") from None


def all_queries() -> dict[str, str]:
    return dict(_QUERIES)
