from __future__ import annotations

import pytest

from squirrel.db.migrate import discover
from squirrel.db.queries import parse_queries


def test_parse_queries_splits_named_blocks() -> None:
    text = "-- header comment\n-- name: a\nSELECT 1;\n\n-- name: b_2\nSELECT 2\n"
    assert parse_queries(text) == {"a": "SELECT 1", "b_2": "SELECT 2"}


def test_parse_queries_rejects_duplicates_and_empty() -> None:
    with pytest.raises(ValueError, match="twice"):
        parse_queries("-- name: a\nSELECT 1\n-- name: a\nSELECT 2")
    with pytest.raises(ValueError, match="empty"):
        parse_queries("-- name: a\n\n")


def test_migrations_are_numbered_uniquely() -> None:
    versions = [m.version for m in discover()]
    assert versions == sorted(versions) and len(versions) == len(set(versions)) and versions[0] == 1
