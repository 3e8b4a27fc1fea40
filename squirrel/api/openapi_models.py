"""Shapes of responses that handlers send as pre-encoded bytes, for the OpenAPI document only.

The live cache encodes its entries straight to JSON (squirrel.live.entries), so the handlers return
bytes and Litestar cannot see the shape; these Structs describe what goes on the wire. The entry is
derived from the Struct the cache encodes, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

import msgspec

from squirrel.live import entries


def _only_required(struct: type[msgspec.Struct], name: str, required: str) -> type[msgspec.Struct]:
    """`struct`'s fields with their types, all but `required` optional (absent when not sent)."""
    fields = [
        (f.name, f.type) if f.name == required else (f.name, f.type, None) for f in msgspec.structs.fields(struct)
    ]
    return msgspec.defstruct(name, fields, kw_only=True, module=__name__)


# An unmonitored address is only `{"connected": false, "error": ...}` (entries.encode_unknown): of the
# encoded entry's members only `connected` is always there.
LiveEntry = _only_required(entries.LiveEntry, "LiveEntry", "connected")
LiveEntry.__doc__ = """One address (snake_case). An address nobody monitors is `{"connected": false, "error": "not
monitored"}`; the other members are then absent, and `enum_index`, `enum_strings`, `error` appear only when set."""

LiveValues: Any = dict[str, LiveEntry]  # type: ignore[valid-type]

LiveCache = msgspec.defstruct("LiveCache", [("values", LiveValues), ("count", int)], module=__name__)
LiveCache.__doc__ = "`GET /v1/pvs/live/all`: every cached address and how many there are."

__all__ = ["LiveCache", "LiveEntry", "LiveValues"]
