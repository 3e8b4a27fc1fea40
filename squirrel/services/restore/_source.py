"""What a restore takes from the snapshot side: stored setpoints and the pre-restore backup snapshot.

The backup must hold a value for every PV the restore writes, or the restore cannot be undone. The
cache counts only where it holds a connected value (after a restart it is cold: the monitor has not
synced yet); every other address is read directly. The backup commits in one transaction with the
restore run's pointer to it and with the plan's skip outcomes, so a resumed attempt reuses it as is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from uuid import UUID, uuid4

from squirrel.db import restore as restore_db
from squirrel.db import snapshots as snap_db
from squirrel.db.pool import connection
from squirrel.db.rows import Conn
from squirrel.jobs.progress import JobContext
from squirrel.pv import PVState, StoredSide, decode_side
from squirrel.services import audit
from squirrel.services.context import ServiceContext
from squirrel.services.restore import _plan as rp
from squirrel.services.snapshots.codec import (
    MissingTally,
    missing_state,
    sides_writer,
    tally_states,
)

BACKUP_LABEL = "pre-restore"
_NAMES_SHOWN = 10


def decode_setpoint(raw: bytes | None) -> StoredSide | None:
    """The stored setpoint side of a snapshot row (None when the row has no setpoint)."""
    return None if raw is None else decode_side(raw)


def holds_value(state: PVState | None) -> bool:
    """A state a backup can stand on: connected, with a value received since it (re)connected."""
    return state is not None and state.connected and state.has_value


async def backup_pvs(ctx: ServiceContext, pv_ids: Sequence[UUID]) -> list[snap_db.PVRow]:
    """The registry rows the backup stores (raw id, setpoint, readback), in name order."""
    async with connection(ctx.pool) as conn:
        return await snap_db.select_pvs(conn, list(pv_ids), None)


def row_addresses(rows: Sequence[snap_db.PVRow]) -> list[str]:
    return [a for row in rows for a in (row[1], row[2]) if a]


def lacking(
    planned: Sequence[rp.PlannedPV],
    options: rp.RestoreOptions,
    rows: Sequence[snap_db.PVRow],
    states: Mapping[str, PVState | None],
) -> list[tuple[rp.PlannedPV, str]]:
    """PVs the restore writes whose old value the backup would not hold, each with why."""
    backed_up = {UUID(bytes=bytes(row[0])): row[1] for row in rows}
    out = []
    for p in planned:
        if not p.writes(options):
            continue
        address = p.target.setpoint_address or ""
        stored = backed_up.get(p.target.pv_id)
        if stored != address:
            out.append((p, f"the backup holds setpoint {stored!r}, the restore writes {address!r}"))
        elif not holds_value(states.get(address)):
            state = states.get(address)
            out.append((p, f"no value read from {address}" + (f" ({state.error})" if state and state.error else "")))
    return out


def incomplete_error(missing: Sequence[tuple[rp.PlannedPV, str]], writes: int) -> str:
    names = ", ".join(p.target.pv_name for p, _ in missing[:_NAMES_SHOWN])
    more = f" and {len(missing) - _NAMES_SHOWN:,} more" if len(missing) > _NAMES_SHOWN else ""
    return (
        f"backup incomplete: {len(missing):,} of {writes:,} PVs to write have no backup value ({names}{more}); "
        "nothing was written (allowIncompleteBackup=true restores without it)"
    )


async def store_backup(
    ctx: ServiceContext,
    job: JobContext,
    snapshot_id: UUID,
    rows: Sequence[snap_db.PVRow],
    states: Mapping[str, PVState | None],
    skipped: Sequence[tuple[UUID, str, str | None, bool]],
    direct: bool,
) -> UUID:
    """Store the backup (label pre-restore) and, in the same transaction, point the run at it and
    record the plan's skip outcomes. Not tied to the job (that would complete it)."""
    backup_id = uuid4()
    title = f"Backup before restore of {snapshot_id}"
    source = "direct" if direct else "cache"
    lookup: Callable[[str], PVState | None] = states.get
    write_sides = sides_writer(lookup, time.time(), missing_state("not read"))
    tally = tally_states(rows, lookup, None, 0.0)  # the snapshot row counts the PVs saved without a value
    async with connection(ctx.pool) as conn:
        await _insert(conn, job, backup_id, title, source, len(rows), tally)
        await snap_db.copy_selected(conn, backup_id, rows, write_sides)
        await snap_db.set_tags(conn, backup_id)
        await audit.record(
            conn, job.actor, "snapshot.create", "snapshot", backup_id, f"'{title}': {len(rows):,} PVs ({source})"
        )
        await restore_db.set_backup(conn, job.job_id, backup_id)
        await restore_db.record_items(conn, job.job_id, skipped)
    return backup_id


async def _insert(
    conn: Conn,
    job: JobContext,
    backup_id: UUID,
    title: str,
    source: str,
    count: int,
    tally: MissingTally,
) -> None:
    await snap_db.insert(
        conn,
        {
            "id": backup_id,
            "job_id": None,
            "title": title,
            "description": None,
            "comment": f"taken by restore job {job.job_id}",
            "labels": [BACKUP_LABEL],
            "created_by": job.actor.name,
            "source": source,
            "pv_count": count,
            "missing_disconnected": tally.disconnected,
            "missing_no_value": tally.no_value,
            "stale_count": tally.stale,
        },
    )
