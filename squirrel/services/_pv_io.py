"""Bulk reads and writes dispatched by protocol: CA keys to squirrel.epics.ca, pva:// keys to squirrel.pva.

Same interface as squirrel.epics.ca (read_many / write_many / WriteResult), so services call this one
place; both halves of a mixed batch run concurrently, each with its own single timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from squirrel.addresses import by_protocol, protocol_of
from squirrel.errors import UnavailableError
from squirrel.pv import PVState


def _ca() -> Any:
    try:
        from squirrel.epics import ca
    except ImportError:
        raise UnavailableError("direct Channel Access reads and writes need the EPICS layer, not available") from None
    return ca


def _split(keys: Sequence[str]) -> tuple[list[str], list[str]]:
    groups = by_protocol(keys)
    return groups["ca"], groups["pva"]


async def read_many(
    addresses: Sequence[str], timeout: float, breakers: Any = None, *, ctrl: bool = True
) -> dict[str, PVState]:
    """Value, alarm, time and metadata of every address (either protocol); failures carry `error`."""
    ca_keys, pva_keys = _split(addresses)
    out: dict[str, PVState] = {}
    jobs = []
    if ca_keys:
        jobs.append(_ca().read_many(ca_keys, timeout, breakers, ctrl=ctrl))
    if pva_keys:
        from squirrel.pva import bulk

        jobs.append(bulk.read_many(pva_keys, timeout, lambda k: PVState(address=k), breakers))
    for part in await asyncio.gather(*jobs):
        out.update(part)
    return out


async def write_many(
    items: Sequence[tuple[str, Any]], timeout: float, wait: bool = True, breakers: Any = None
) -> dict[str, Any]:
    """Put every (address, value); address -> a WriteResult (outcome, error) of either protocol."""
    ca_items = [(a, v) for a, v in items if protocol_of(a) == "ca"]
    pva_items = [(a, v) for a, v in items if protocol_of(a) == "pva"]
    out: dict[str, Any] = {}
    jobs = []
    ca = _ca() if ca_items else None
    if ca is not None:
        jobs.append(ca.write_many(ca_items, timeout, wait=wait, breakers=breakers))
    if pva_items:
        jobs.append(_pva_writes(pva_items, timeout, wait, breakers))
    for part in await asyncio.gather(*jobs):
        out.update(part)
    return out


async def _pva_writes(items: list[tuple[str, Any]], timeout: float, wait: bool, breakers: Any) -> dict[str, Any]:
    from squirrel.pva import bulk

    results = await bulk.write_many(items, timeout, wait, breakers)
    return {key: WriteResult(outcome, error) for key, (outcome, error) in results.items()}


class WriteResult:
    """One write's outcome (written | timeout | disconnected | failed) and error text, as ca.WriteResult."""

    __slots__ = ("error", "outcome")

    def __init__(self, outcome: str, error: str | None = None) -> None:
        self.outcome = outcome
        self.error = error
