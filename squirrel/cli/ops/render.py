"""How values, times and rows look in tables."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from rich.table import Table

from squirrel.model import EpicsValueDTO, PVValueDTO


def value_text(value: Any, limit: int = 40) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, list):
        text = "[" + ", ".join(value_text(v, 12) for v in value[:8]) + (", …" if len(value) > 8 else "") + "]"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def side_text(side: EpicsValueDTO | None) -> str:
    if side is None:
        return ""
    if side.value is None:
        return "(disconnected)" if not side.connected else "(no value)"
    return value_text(side.value) + (f" {side.units}" if side.units else "")


def when(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") if t else ""


def number(v: Any) -> float | None:
    """A numeric scalar as float (None for text, arrays, booleans, the 'NaN' strings)."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


def delta_of(v1: Any, v2: Any) -> float | None:
    a, b = number(v1), number(v2)
    if a is None or b is None:
        return None
    d = b - a
    return None if math.isnan(d) else d


def missing_sides(pv: PVValueDTO) -> list[str]:
    """Why a stored PV counts as missing: 'disconnected' or 'no value' per side that has an address."""
    out = []
    for name, side in ((pv.setpoint_name, pv.setpoint_value), (pv.readback_name, pv.readback_value)):
        if name is None:
            continue
        if side is None or side.value is None:
            out.append("disconnected" if side is None or not side.connected else "no value")
    return out


def table(*columns: str, title: str | None = None) -> Table:
    t = Table(*columns, title=title, title_justify="left", header_style="bold")
    return t
