"""Shapes of responses that handlers send as pre-encoded bytes, for the OpenAPI document only.

The live cache encodes its entries straight to JSON (squirrel.live.entries), so the handlers return
bytes and Litestar cannot see the shape; these Structs describe what goes on the wire.
"""

from __future__ import annotations

from typing import Any

import msgspec


class LiveEntry(msgspec.Struct, kw_only=True):
    """One address (snake_case). An address nobody monitors is `{"connected": false, "error": "not monitored"}`;
    the other members are then absent, and `enum_index`, `enum_strings`, `error` appear only when set."""

    connected: bool
    value: Any = None
    type: str | None = None
    updated_at: float | None = None
    status: str | None = None
    severity: int | None = None
    timestamp: float | None = None
    units: str | None = None
    precision: int | None = None
    enum_index: int | None = None
    enum_strings: list[str] | None = None
    error: str | None = None


class LiveCache(msgspec.Struct):
    """`GET /v1/pvs/live/all`: every cached address and how many there are."""

    values: dict[str, LiveEntry]
    count: int


LiveValues = dict[str, LiveEntry]

__all__ = ["LiveCache", "LiveEntry", "LiveValues"]
