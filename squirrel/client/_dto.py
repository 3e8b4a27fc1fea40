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
    MissingDTO,
    RestoreResult,
    SnapshotDTO,
    SnapshotSummaryDTO,
)

# The server now sends the missing counts and job warnings: the service's DTOs serve as they are.
MissingCounts = MissingDTO
SnapshotSummary = SnapshotSummaryDTO


class Snapshot(SnapshotDTO, kw_only=True):
    matched_count: int | None = None  # rows the server-side filters selected (API.md; older servers omit it)


# The server now sends side, address, delta and changedCount: the service's DTOs serve as they are.
CompareDifference = CompareDifferenceDTO
CompareResult = CompareResultDTO
RestoreOutcome = RestoreResult


class Job(JobDTO, kw_only=True):
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
