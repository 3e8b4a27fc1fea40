"""squirrel.client._routes_snapshots: each operation's request (method, path, query, body), built without I/O."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgspec
import pytest

from squirrel.client._calls import Call
from squirrel.client._routes_snapshots import job_id_of
from squirrel.model import JobQueued, NewScheduleBody, NewSnapshotBody, RestoreRequest
from tests.unit.client.recorder import Recorder

S = UUID(int=5)
SID = str(S)

CASES: list[tuple[Callable[[Recorder], Call[Any]], str, str, tuple[tuple[str, str], ...]]] = [
    (lambda c: c.list_snapshots(), "GET", "/v1/snapshots", ()),
    (
        lambda c: c.list_snapshots(title="t", tags=[S], labels=["golden", "x"], limit=5, offset=0),
        "GET",
        "/v1/snapshots",
        (("title", "t"), ("tags", SID), ("labels", "golden"), ("labels", "x"), ("limit", "5"), ("offset", "0")),
    ),
    (
        lambda c: c.create_snapshot(NewSnapshotBody(title="t")),
        "POST",
        "/v1/snapshots",
        (("async", "true"), ("use_cache", "true")),
    ),
    (
        lambda c: c.create_snapshot_now(NewSnapshotBody(title="t"), use_cache=False, require_complete=True),
        "POST",
        "/v1/snapshots",
        (("async", "false"), ("use_cache", "false"), ("requireComplete", "true")),
    ),
    (
        lambda c: c.get_snapshot(S, limit=1, q="x", only_missing=True, different_from_live=False),
        "GET",
        f"/v1/snapshots/{SID}",
        (("limit", "1"), ("q", "x"), ("onlyMissing", "true"), ("differentFromLive", "false")),
    ),
    (lambda c: c.delete_snapshot("a/b"), "DELETE", "/v1/snapshots/a%2Fb", ()),
    (
        lambda c: c.compare(S, "live", abs_tolerance=0.0, side="left"),
        "GET",
        f"/v1/snapshots/{SID}/compare/live",
        (("absTolerance", "0.0"), ("side", "left")),
    ),
    (lambda c: c.export_snapshot(S, "csv"), "GET", f"/v1/snapshots/{SID}/export", (("format", "csv"),)),
    (lambda c: c.restore_plan(S), "POST", f"/v1/snapshots/{SID}/restore", (("dryRun", "true"),)),
    (lambda c: c.restore(S), "POST", f"/v1/snapshots/{SID}/restore", ()),
    (
        lambda c: c.list_jobs(status="running", job_type="snapshot_restore"),
        "GET",
        "/v1/jobs",
        (("status", "running"), ("type", "snapshot_restore")),
    ),
    (lambda c: c.get_job(S), "GET", f"/v1/jobs/{SID}", ()),
    (lambda c: c.cancel_job(S), "DELETE", f"/v1/jobs/{SID}", ()),
    (lambda c: c.list_schedules(), "GET", "/v1/schedules", ()),
    (lambda c: c.get_schedule(S), "GET", f"/v1/schedules/{SID}", ()),
    (lambda c: c.delete_schedule(S), "DELETE", f"/v1/schedules/{SID}", ()),
]


@pytest.mark.parametrize(("build", "method", "path", "params"), CASES)
def test_requests(
    build: Callable[[Recorder], Call[Any]], method: str, path: str, params: tuple[tuple[str, str], ...]
) -> None:
    call = build(Recorder())
    assert (call.method, call.path, call.params) == (method, path, params)


def test_bodies_are_json_in_wire_names() -> None:
    c = Recorder()
    created = c.create_snapshot(NewSnapshotBody(title="t", pv_ids=[S]))
    assert created.content_type == "application/json"
    assert msgspec.json.decode(created.content) == {
        "title": "t", "description": None, "comment": None, "pvIds": [SID], "tags": None, "labels": None,
    }  # fmt: skip
    restore = msgspec.json.decode(c.restore(S).content)
    assert restore["backup"] is True and restore["pvIds"] is None  # the default request: every PV, with a backup
    chosen = msgspec.json.decode(c.restore_plan(S, RestoreRequest(pv_ids=[S], verify=True)).content)
    assert (chosen["pvIds"], chosen["verify"]) == ([SID], True)
    schedule = c.create_schedule(NewScheduleBody(name="n", cron="0 * * * *", title="t"))
    assert (schedule.method, schedule.path, msgspec.json.decode(schedule.content)["cron"]) == (
        "POST", "/v1/schedules", "0 * * * *",
    )  # fmt: skip


def test_import_sends_the_file_as_it_is() -> None:
    c = Recorder()
    csv = c.import_snapshot("a,b\n", "text/csv", title="T")
    assert (csv.path, csv.content, csv.content_type, csv.params) == (
        "/v1/snapshots/import", b"a,b\n", "text/csv", (("title", "T"),),
    )  # fmt: skip
    raw = c.import_snapshot(b"{}")
    assert (raw.content_type, raw.params) == ("application/json", ())


def test_export_answers_text() -> None:
    assert Recorder().export_snapshot(S).answer(200, b"pv,value\n") == "pv,value\n"


def test_job_id_of_takes_a_queued_job_an_id_or_text() -> None:
    assert job_id_of(JobQueued(job_id=S, message="queued")) == S
    assert job_id_of(S) == S
    assert job_id_of(SID) == S
    with pytest.raises(ValueError):
        job_id_of("not-an-id")
