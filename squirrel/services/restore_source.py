"""What a restore takes from the snapshot side: stored setpoints and the pre-restore backup snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from squirrel.jobs.progress import JobContext
from squirrel.services.context import ServiceContext
from squirrel.services.snapshot_codec import StoredSide, decode_side
from squirrel.services.snapshots import SnapshotSpec, take_snapshot

BACKUP_LABEL = "pre-restore"


def decode_setpoint(raw: bytes | None) -> StoredSide | None:
    """The stored setpoint side of a snapshot row (None when the row has no setpoint)."""
    return None if raw is None else decode_side(raw)


async def backup_snapshot(ctx: ServiceContext, job: JobContext, snapshot_id: UUID, pv_ids: Sequence[UUID]) -> UUID:
    """Snapshot the same PVs as they are now (label pre-restore) so the restore can be undone.

    From the cache when the monitor runs here (it is current), else by a direct read. Not tied to the
    job (that would complete it): the restore records the backup id itself.
    """
    spec = SnapshotSpec(
        title=f"Backup before restore of {snapshot_id}",
        comment=f"taken by restore job {job.job_id}",
        labels=[BACKUP_LABEL],
        pv_ids=list(pv_ids),
        use_cache=ctx.monitor is not None,
    )
    row = await take_snapshot(ctx, spec, job.actor)
    backup_id: UUID = row["id"]
    return backup_id
