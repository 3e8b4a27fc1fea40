"""How the CLI shows values in tables: short, exact about missing values, deltas only between numbers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from squirrel.cli.ops.render import delta_of, missing_sides, number, side_text, value_text, when
from squirrel.model import EpicsValueDTO, PVValueDTO


def side(value: Any, connected: bool = True, units: str | None = None) -> EpicsValueDTO:
    return EpicsValueDTO(
        value=value, type=None, status="NO_ALARM", severity=0, timestamp=None, units=units, precision=None,
        upper_ctrl_limit=None, lower_ctrl_limit=None, connected=connected,
    )  # fmt: skip


def pv(sp: str | None, sp_value: EpicsValueDTO | None, rb: str | None, rb_value: EpicsValueDTO | None) -> PVValueDTO:
    return PVValueDTO(
        pv_id=uuid.uuid4(), pv_name=sp or rb or "", setpoint_name=sp, readback_name=rb, setpoint_value=sp_value,
        readback_value=rb_value, status="NO_ALARM", severity=0, timestamp=None, tags=[],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (1.23456789, "1.23457"),
        (1e-12, "1e-12"),
        (7, "7"),
        ("on", "on"),
        ([1, 2.5], "[1, 2.5]"),
        (list(range(10)), "[0, 1, 2, 3, 4, 5, 6, 7, …]"),
    ],
)
def test_value_text(value: Any, text: str) -> None:
    assert value_text(value) == text


def test_long_values_are_cut_to_the_limit_with_an_ellipsis() -> None:
    assert value_text("x" * 50) == "x" * 39 + "…"
    assert value_text("abcdef", limit=4) == "abc…"


def test_side_text_tells_disconnected_from_no_value() -> None:
    assert side_text(None) == ""
    assert side_text(side(None, connected=False)) == "(disconnected)"
    assert side_text(side(None)) == "(no value)"
    assert side_text(side(2.0, units="mA")) == "2 mA"
    assert side_text(side("text")) == "text"


def test_when() -> None:
    assert when(None) == ""
    assert when(datetime(2024, 5, 6, 7, 8, 9, 500)) == "2024-05-06 07:08:09"


@pytest.mark.parametrize(("v", "n"), [(3, 3.0), (2.5, 2.5), (True, None), ("1", None), ([1], None), ("NaN", None)])
def test_number_is_a_numeric_scalar_only(v: Any, n: float | None) -> None:
    assert number(v) == n


def test_delta_of_numbers_only_and_never_nan() -> None:
    assert delta_of(1, 2.5) == 1.5
    assert delta_of(1, "x") is None
    assert delta_of(float("nan"), 1.0) is None
    assert delta_of(float("inf"), float("inf")) is None  # inf − inf is NaN


def test_missing_sides_per_side_that_has_an_address() -> None:
    assert missing_sides(pv("SP", side(1.0), "RB", side(1.0))) == []
    assert missing_sides(pv("SP", None, "RB", side(None))) == ["disconnected", "no value"]
    assert missing_sides(pv("SP", side(None, connected=False), None, None)) == ["disconnected"]
    assert missing_sides(pv(None, None, "RB", side(None))) == ["no value"]
