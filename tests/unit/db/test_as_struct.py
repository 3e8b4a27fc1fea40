"""`as_struct`: a row's columns become a Struct's fields by name; renamed or reshaped ones are given."""

from __future__ import annotations

import msgspec
import pytest

from squirrel.db.rows import as_struct


class _Item(msgspec.Struct, rename="camel", kw_only=True):
    item_id: int
    name: str
    created_date: str


def test_fields_come_from_same_named_columns_and_given_ones_win() -> None:
    row = {"item_id": 1, "name": "raw", "created_at": "t", "extra": "ignored"}
    item = as_struct(_Item, row, name="given", created_date=row["created_at"])
    assert item == _Item(item_id=1, name="given", created_date="t")


def test_a_missing_column_is_an_error_not_a_default() -> None:
    with pytest.raises(KeyError, match="created_date"):
        as_struct(_Item, {"item_id": 1, "name": "n"})
