"""The registry CSV format (pure functions)."""

from __future__ import annotations

import pytest

from squirrel.errors import ValidationError
from squirrel.services import _csvio as csvio
from squirrel.services.registry import like_pattern, parse_tag_filters, parse_token


def test_parse_known_columns_any_case_and_tag_cells() -> None:
    text = '\ufeffsetpoint , READBACK,Device,Description,Area,Kind\nS:1,R:1,d,desc,"a; b",x,\n\n ,R:2,,,,\n'
    rows = csvio.parse(csvio.decode(text.encode("utf-8")))
    assert [r.line for r in rows] == [2, 4]
    assert rows[0].setpoint == "S:1" and rows[0].readback == "R:1" and rows[0].description == "desc"
    assert rows[0].tags == {"Area": ["a", "b"], "Kind": ["x"]}
    assert rows[1].setpoint is None and rows[1].readback == "R:2" and rows[1].tags == {}


def test_split_tags_on_semicolon_and_comma() -> None:
    assert csvio.split_tags(" a ;b,, c ;", 2, "G") == ["a", "b", "c"]
    assert csvio.split_tags(None, 2, "G") == []


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("Readback\nA\n", "'Setpoint' column"),
        ("Setpoint,Setpoint\n", "appears twice"),
        ("Setpoint, \n", "column 2 has no name"),
        ("Setpoint\nA,B\n", "line 2 has 2 fields"),
        ('Setpoint\n"A\n', "line"),
    ],
)
def test_parse_errors(text: str, needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        csvio.parse(text)


def test_decode_reports_offset() -> None:
    with pytest.raises(ValidationError, match=r"0xff at offset 3"):
        csvio.decode(b"abc\xffdef")


def test_format_round_trips() -> None:
    text = csvio.format_csv(["Area"], [(["S:1", None, "d", "a, b"], {"Area": ["x", "y"]})])
    assert text == 'Setpoint,Readback,Device,Description,Area\nS:1,,d,"a, b",x;y\n'
    (row,) = csvio.parse(text)
    assert row.description == "a, b" and row.tags == {"Area": ["x", "y"]}


def test_like_pattern_escapes_wildcards() -> None:
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"
    assert like_pattern("") is None and like_pattern(None) is None


def test_token_and_tag_filters() -> None:
    assert parse_token(None) is None
    with pytest.raises(ValidationError, match="continuationToken"):
        parse_token("@@@")
    assert parse_tag_filters('{"00000000-0000-0000-0000-000000000001": []}') is None
    with pytest.raises(ValidationError, match="tagFilters"):
        parse_tag_filters('{"x": ["y"]}')
