"""Operations on snapshots, restores, jobs and schedules (/v1/snapshots, /v1/jobs, /v1/schedules)."""

from __future__ import annotations

from uuid import UUID

from squirrel.client._calls import Call, Id, as_json, as_text, file_call, json_call, operation, query, seg
from squirrel.client._dto import CompareResult, Job, Snapshot, SnapshotSummary
from squirrel.model import (
    DeletedDTO,
    JobQueued,
    NewScheduleBody,
    NewSnapshotBody,
    RestorePlan,
    RestoreRequest,
    ScheduleDTO,
    UpdateScheduleBody,
    UpdateSnapshotBody,
)


class SnapshotRoutes:
    # --- snapshots ---
    @operation
    def list_snapshots(
        self,
        title: str | None = None,
        tags: list[Id] | None = None,
        labels: list[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Call[list[SnapshotSummary]]:
        """Newest first; tags = tag ids one of the snapshot's PVs carried; labels = any of these labels."""
        params = query(title=title, tags=tags, labels=labels, limit=limit, offset=offset)
        return Call("GET", "/v1/snapshots", as_json(list[SnapshotSummary]), params)

    @operation
    def create_snapshot(
        self, body: NewSnapshotBody, use_cache: bool = True, require_complete: bool | None = None
    ) -> Call[JobQueued]:
        """Queue a snapshot job (wait for it with `wait_job`)."""
        params = query(use_cache=use_cache, requireComplete=require_complete)
        return json_call("POST", "/v1/snapshots", as_json(JobQueued), body, (("async", "true"), *params))

    @operation
    def create_snapshot_now(
        self, body: NewSnapshotBody, use_cache: bool = True, require_complete: bool | None = None
    ) -> Call[SnapshotSummary]:
        """Take a snapshot inside the request (201 with the summary)."""
        params = query(use_cache=use_cache, requireComplete=require_complete)
        return json_call("POST", "/v1/snapshots", as_json(SnapshotSummary), body, (("async", "false"), *params))

    @operation
    def import_snapshot(
        self, data: str | bytes, content_type: str = "application/json", title: str | None = None
    ) -> Call[SnapshotSummary]:
        """A file as `export_snapshot` wrote it (JSON or CSV); `title` names the new snapshot.

        A file the server already holds (the export of an existing snapshot, or one imported before) is
        a ConflictError naming it."""
        params = (("title", title),) if title is not None else ()
        return file_call("/v1/snapshots/import", as_json(SnapshotSummary), data, content_type, params)

    @operation
    def get_snapshot(
        self,
        snapshot_id: Id,
        limit: int | None = None,
        offset: int | None = None,
        q: str | None = None,
        only_missing: bool | None = None,
        different_from_live: bool | None = None,
    ) -> Call[Snapshot]:
        """A snapshot with its values (no limit: all of them)."""
        params = query(limit=limit, offset=offset, q=q, onlyMissing=only_missing, differentFromLive=different_from_live)
        return Call("GET", f"/v1/snapshots/{seg(snapshot_id)}", as_json(Snapshot), params)

    @operation
    def update_snapshot(self, snapshot_id: Id, patch: UpdateSnapshotBody) -> Call[SnapshotSummary]:
        """Title, description, comment, labels (`golden` needs admin)."""
        return json_call("PUT", f"/v1/snapshots/{seg(snapshot_id)}", as_json(SnapshotSummary), patch)

    @operation
    def delete_snapshot(self, snapshot_id: Id) -> Call[DeletedDTO]:
        return Call("DELETE", f"/v1/snapshots/{seg(snapshot_id)}", as_json(DeletedDTO))

    @operation
    def compare(
        self,
        first: Id,
        second: Id,
        abs_tolerance: float | None = None,
        rel_tolerance: float | None = None,
        side: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Call[CompareResult]:
        """Differences between two snapshots, or between a snapshot and live values (`second="live"`)."""
        params = query(absTolerance=abs_tolerance, relTolerance=rel_tolerance, side=side, limit=limit, offset=offset)
        return Call("GET", f"/v1/snapshots/{seg(first)}/compare/{seg(second)}", as_json(CompareResult), params)

    @operation
    def export_snapshot(self, snapshot_id: Id, fmt: str = "json") -> Call[str]:
        """The snapshot file as text (`json`, or `csv` in Phoebus save-and-restore columns)."""
        return Call("GET", f"/v1/snapshots/{seg(snapshot_id)}/export", as_text, query(format=fmt))

    # --- restore ---
    @operation
    def restore_plan(self, snapshot_id: Id, request: RestoreRequest | None = None) -> Call[RestorePlan]:
        """The dry run: what a restore would do to each PV, read from live state."""
        path = f"/v1/snapshots/{seg(snapshot_id)}/restore"
        return json_call("POST", path, as_json(RestorePlan), request or RestoreRequest(), query(dryRun=True))

    @operation
    def restore(self, snapshot_id: Id, request: RestoreRequest | None = None) -> Call[JobQueued]:
        """Queue a restore job (wait for it with `wait_job`; its outcome is `Job.restore_outcome()`)."""
        path = f"/v1/snapshots/{seg(snapshot_id)}/restore"
        return json_call("POST", path, as_json(JobQueued), request or RestoreRequest())

    # --- jobs ---
    @operation
    def list_jobs(
        self, status: str | None = None, job_type: str | None = None, limit: int | None = None
    ) -> Call[list[Job]]:
        return Call("GET", "/v1/jobs", as_json(list[Job]), query(status=status, type=job_type, limit=limit))

    @operation
    def get_job(self, job_id: Id) -> Call[Job]:
        return Call("GET", f"/v1/jobs/{seg(job_id)}", as_json(Job))

    @operation
    def cancel_job(self, job_id: Id) -> Call[Job]:
        """Cancel a pending or running job (409 once it has finished)."""
        return Call("DELETE", f"/v1/jobs/{seg(job_id)}", as_json(Job))

    # --- schedules ---
    @operation
    def list_schedules(self) -> Call[list[ScheduleDTO]]:
        return Call("GET", "/v1/schedules", as_json(list[ScheduleDTO]))

    @operation
    def get_schedule(self, schedule_id: Id) -> Call[ScheduleDTO]:
        return Call("GET", f"/v1/schedules/{seg(schedule_id)}", as_json(ScheduleDTO))

    @operation
    def create_schedule(self, body: NewScheduleBody) -> Call[ScheduleDTO]:
        return json_call("POST", "/v1/schedules", as_json(ScheduleDTO), body)

    @operation
    def update_schedule(self, schedule_id: Id, patch: UpdateScheduleBody) -> Call[ScheduleDTO]:
        return json_call("PUT", f"/v1/schedules/{seg(schedule_id)}", as_json(ScheduleDTO), patch)

    @operation
    def delete_schedule(self, schedule_id: Id) -> Call[DeletedDTO]:
        return Call("DELETE", f"/v1/schedules/{seg(schedule_id)}", as_json(DeletedDTO))


def job_id_of(queued: JobQueued | UUID | str) -> UUID:
    return queued.job_id if isinstance(queued, JobQueued) else UUID(str(queued))
