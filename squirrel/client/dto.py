"""The service's own DTOs (squirrel.model), widened by the fields API.md adds that an older server may not send.

Every added field has a default, so answers from a server without it still decode; a server that sends
it fills it. Nothing here restates a field squirrel.model already has.
"""

from __future__ import annotations

from typing import Any

import msgspec

from squirrel.model import (
    CompareDifferenceDTO,
    CompareResultDTO,
    JobDTO,
    RestoreResult,
    SnapshotDTO,
    SnapshotSummaryDTO,
)


class MissingCounts(msgspec.Struct, rename="camel", kw_only=True):
    """PVs saved without a value: no connection at capture, or connected but no value; `stale` = old values."""

    disconnected: int = 0
    no_value: int = 0
    stale: int = 0


class SnapshotSummary(SnapshotSummaryDTO, kw_only=True):
    missing_count: int | None = None
    missing: MissingCounts | None = None


class Snapshot(SnapshotDTO, kw_only=True):
    missing_count: int | None = None
    missing: MissingCounts | None = None
    matched_count: int | None = None


class CompareDifference(CompareDifferenceDTO, kw_only=True):
    side: str | None = None  # setpoint | readback
    address: str | None = None
    delta: float | None = None  # value2 - value1 for numeric scalars


class CompareResult(CompareResultDTO, kw_only=True):
    differences: list[CompareDifference]  # type: ignore[assignment]


class RestoreOutcome(RestoreResult, kw_only=True):
    changed_count: int | None = None


class Job(JobDTO, kw_only=True):
    warnings: list[str] = msgspec.field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    def restore_outcome(self) -> RestoreOutcome | None:
        """The restore result of a finished restore job (None for other jobs or before the end)."""
        if self.type != "snapshot_restore" or not self.result or "items" not in self.result:
            return None
        return msgspec.convert(self.result, RestoreOutcome)


TERMINAL = frozenset({"completed", "failed", "cancelled"})


def to_builtins(value: Any) -> Any:
    """A Struct (or list of them) as JSON-ready builtins with the wire (camelCase) names."""
    return msgspec.to_builtins(value)
