"""PVState → the snake_case live entry of API.md, encoded with msgspec straight from the cache.

The broadcaster keeps the encoded `"address":{entry}` fragment of each address until the address is
drained dirty again, so a change is encoded once per tick however many clients receive it.

It also keeps each address's *content* (the entry without `updated_at`) as last fanned out: an update
that changes nothing a client sees (same value, alarm, EPICS time, metadata, connection) is not a
change. Such updates are real: caproto IOCs send every event to every subscription whatever its mask,
so each value change also arrives on the DBE_PROPERTY subscription, often in a later batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from squirrel.pv import PVCache, PVState, builder, to_wire

NOT_MONITORED = "not monitored"
_NOT_MONITORED_BYTES = b'{"connected":false,"error":"not monitored"}'


def encode_unknown(error: str) -> bytes:
    """The entry of an address the cache does not hold, with why (e.g. a protocol mix-up)."""
    return b'{"connected":false,"error":' + msgspec.json.encode(error) + b"}"


class LiveEntry(msgspec.Struct, omit_defaults=True):
    """One address on the wire (snake_case, as the old dialect); the optional members only when set."""

    value: Any
    type: str | None
    connected: bool
    updated_at: float | None
    status: str
    severity: int
    timestamp: float | None
    units: str | None
    precision: int | None
    enum_index: int | None = None
    enum_strings: list[str] | None = None
    error: str | None = None


_encoder = msgspec.json.Encoder()
Content = tuple[Any, ...]


# Both built from LiveEntry's declaration (see squirrel.pv.builder): a field added there reaches them.
_entry = builder(
    "entry", LiveEntry.__struct_fields__, source=PVState.__struct_fields__, params=("value",),
    exprs={"value": "value"}, target=LiveEntry,
)  # fmt: skip
# What a client sees, `updated_at` aside: the value in wire form (NaN != NaN, "NaN" == "NaN") and the
# EPICS time at full precision.
_content = builder(
    "content", tuple(f for f in LiveEntry.__struct_fields__ if f != "updated_at"), source=PVState.__struct_fields__,
    params=("value",), exprs={"value": "value", "timestamp": "src.timestamp_ns if src.timestamp_ns is not None"
                              " else src.timestamp"},
)  # fmt: skip


def content_of(state: PVState) -> Content:
    """What a client sees of an entry, `updated_at` aside; equal tuples mean nothing changed."""
    value = state.value
    if value.__class__ is float or value.__class__ is list:
        value = to_wire(value)
    content: Content = _content(state, value)
    return content


def to_entry(state: PVState) -> LiveEntry:
    entry: LiveEntry = _entry(state, to_wire(state.value))
    return entry


def encode_entry(state: PVState | None) -> bytes:
    """One entry as JSON; an address the cache does not hold is `{connected:false, error:"not monitored"}`."""
    if state is None:
        return _NOT_MONITORED_BYTES
    return _encoder.encode(to_entry(state))


class EntryEncoder:
    """Encodes `{address: entry}` maps from the cache, memoising each address's fragment until invalidated."""

    def __init__(self, cache: PVCache) -> None:
        self.cache = cache
        self._memo: dict[str, bytes] = {}
        self._content: dict[str, Content] = {}

    def changed(self, dirty: set[str]) -> set[str]:
        """Invalidate the dirty addresses' fragments; return those whose content differs from the last
        call's (an address the cache no longer holds counts as changed)."""
        memo, seen, get = self._memo, self._content, self.cache.get
        out: set[str] = set()
        for address in dirty:
            memo.pop(address, None)  # updated_at moved on: the next fragment shows it
            state = get(address)
            if state is None:
                seen.pop(address, None)
                out.add(address)
                continue
            content = content_of(state)
            if seen.get(address) != content:
                seen[address] = content
                out.add(address)
        return out

    def prune(self) -> None:
        """Forget fragments of addresses the cache no longer holds."""
        cache = self.cache
        for address in [a for a in self._memo if a not in cache]:
            del self._memo[address]
        for address in [a for a in self._content if a not in cache]:
            del self._content[address]

    def fragment(self, address: str) -> bytes:
        piece = self._memo.get(address)
        if piece is not None:
            return piece
        state = self.cache.get(address)
        piece = _encoder.encode(address) + b":" + encode_entry(state)
        if state is not None:
            self._memo[address] = piece
        return piece

    def encode_map(self, addresses: Iterable[str]) -> tuple[bytes, int]:
        """`{"a":{..},"b":{..}}` and the number of entries."""
        fragment = self.fragment
        parts = [fragment(a) for a in addresses]
        return b"{" + b",".join(parts) + b"}", len(parts)

    async def encode_map_yielding(self, addresses: Iterable[str], chunk: int = 5000) -> tuple[bytes, int]:
        """encode_map that yields to the loop between chunks, so a 50K-entry initial never stalls it.

        A tick that runs in between only invalidates fragments of addresses that are then pending for
        the subscriber, so the next diff carries their newer values.
        """
        fragment = self.fragment
        wanted = addresses if isinstance(addresses, list) else list(addresses)
        parts: list[bytes] = []
        for start in range(0, len(wanted), chunk):
            if start:
                await asyncio.sleep(0)
            parts.extend([fragment(a) for a in wanted[start : start + chunk]])
        return b"{" + b",".join(parts) + b"}", len(parts)

    async def encode_fresh(
        self, addresses: Iterable[str], chunk: int = 5000, entry: Callable[[str], bytes] | None = None
    ) -> tuple[bytes, int]:
        """Like encode_map but straight from the cache, bypassing the memo (REST reads); yields between chunks.

        `entry(address)` encodes one address's entry when the caller resolves addresses itself."""
        get = self.cache.get
        one = entry or (lambda a: encode_entry(get(a)))
        wanted = addresses if isinstance(addresses, list) else list(addresses)
        parts: list[bytes] = []
        for start in range(0, len(wanted), chunk):
            if start:
                await asyncio.sleep(0)
            parts.extend([_encoder.encode(a) + b":" + one(a) for a in wanted[start : start + chunk]])
        return b"{" + b",".join(parts) + b"}", len(parts)
