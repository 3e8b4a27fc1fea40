"""squirrel.client against the real app (uvicorn in-process, PostgreSQL, job worker): every /v1 route family,
typed answers, problems as exceptions, and job waiting by SSE with the polling fallback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import UUID

import httpx
import pytest

from squirrel.client import (
    ApiError,
    AsyncClient,
    AuthError,
    BadRequestError,
    Client,
    CompareDifference,
    ConflictError,
    ConnectError,
    Job,
    NewPVElementDTO,
    NewSnapshotBody,
    NotFoundError,
    Snapshot,
    SnapshotSummary,
    UpdateSnapshotBody,
)
from squirrel.model import (
    EpicsValueDTO,
    NameDescriptionPatch,
    NewScheduleBody,
    PVElementDTO,
    RestorePlan,
    UpdatePVElementDTO,
    UpdateScheduleBody,
)
from tests.conftest import make_settings
from tests.support.server import RunningServer, run_server
from tests.support.snapshots import put_value

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(database_url, roles=["api", "worker"])) as s:
        yield s


@pytest.fixture
async def admin(server: RunningServer) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(server.url, server.tokens["admin"]) as client:
        yield client


async def _registry(server: RunningServer, sq: AsyncClient) -> tuple[UUID, list[PVElementDTO]]:
    """Three tagged PVs with cached values; returns (tag id, PVs)."""
    await sq.bulk_tags({"Area": ["LINAC"]})
    group = await sq.tag_group((await sq.tag_groups())[0].id)
    tag = group.tags[0].id
    pvs = await sq.create_pvs(
        [NewPVElementDTO(setpoint_address=f"C:{i}:SP", readback_address=f"C:{i}:RB", tags=[tag]) for i in range(3)]
    )
    for i, pv in enumerate(pvs):
        put_value(server.ctx.cache, pv.setpoint_address or "", float(i))
        put_value(server.ctx.cache, pv.readback_address or "", float(i))
    return tag, pvs


async def test_snapshots_jobs_compare_restore_plan_and_files(server: RunningServer, admin: AsyncClient) -> None:
    tag, _ = await _registry(server, admin)
    queued = await admin.create_snapshot(NewSnapshotBody(title="first", tags=[tag]))
    seen: list[Job] = []
    job = await admin.wait_job(queued.job_id, seen.append, timeout=30)
    assert isinstance(job, Job) and job.status == "completed" and job.finished and seen[-1].status == "completed"
    assert job.warnings == [] and job.result_id is not None

    snap = await admin.get_snapshot(job.result_id)
    assert isinstance(snap, Snapshot) and snap.pv_count == 3
    assert all(isinstance(v.setpoint_value, EpicsValueDTO) for v in snap.pv_values)
    listed = await admin.list_snapshots(title="first")
    assert [type(s) for s in listed] == [SnapshotSummary] and listed[0].id == snap.id

    put_value(server.ctx.cache, "C:1:SP", 7.5)
    second = await admin.create_snapshot_now(NewSnapshotBody(title="second"))
    diff = await admin.compare(snap.id, second.id)
    assert diff.difference_count == 1 and isinstance(diff.differences[0], CompareDifference)
    assert (diff.differences[0].pv_name, diff.differences[0].value1, diff.differences[0].value2) == ("C:1:SP", 1.0, 7.5)
    live = await admin.compare(snap.id, "live", abs_tolerance=10.0)
    assert live.snapshot2_id == "live" and live.difference_count == 0

    plan = await admin.restore_plan(snap.id)
    assert isinstance(plan, RestorePlan) and sum(plan.counts.values()) == 3

    golden = await admin.update_snapshot(snap.id, UpdateSnapshotBody(labels=["golden"]))
    assert golden.labels == ["golden"]
    assert [s.id for s in await admin.list_snapshots(labels=["golden"])] == [snap.id]
    exported = await admin.export_snapshot(snap.id)
    with pytest.raises(ConflictError) as duplicate:  # the export of a snapshot that still exists
        await admin.import_snapshot(exported)
    assert duplicate.value.status == 409 and str(snap.id) in duplicate.value.detail
    assert "C:0:SP" in await admin.export_snapshot(snap.id, "csv")
    assert (await admin.delete_snapshot(snap.id)).deleted
    imported = await admin.import_snapshot(exported)
    assert imported.source == "import" and imported.pv_count == 3
    assert (await admin.delete_snapshot(imported.id)).deleted

    jobs = await admin.list_jobs(job_type="snapshot_create")
    assert [j.id for j in jobs] == [queued.job_id]
    assert (await admin.get_job(queued.job_id)).status == "completed"
    with pytest.raises(ConflictError) as finished:
        await admin.cancel_job(queued.job_id)
    assert finished.value.status == 409


async def test_registry_tags_live_schedules_keys_audit_health(server: RunningServer, admin: AsyncClient) -> None:
    tag, pvs = await _registry(server, admin)
    group_id = (await admin.tag_groups())[0].id
    page = await admin.page_pvs(page_size=2, tag_filters={str(group_id): [str(tag)]})
    assert page.total_count == 3 and len(page.results) == 2 and page.continuation_token
    assert (await admin.page_pvs(continuation_token=page.continuation_token)).results[0].setpoint_address == "C:2:SP"
    assert [p.setpoint_address for p in await admin.list_pvs("C:1")] == ["C:1:SP"]
    found = await admin.search_pvs("C:2", tags=[tag], include_live_values=True)
    assert found.total_count == 1 and found.live_values is not None
    assert (await admin.get_pv(pvs[0].id)).setpoint_address == "C:0:SP"
    updated = await admin.update_pv(pvs[0].id, UpdatePVElementDTO(device="D1", restore_order=2))
    assert (updated.device, updated.restore_order) == ("D1", 2)
    assert await admin.devices() == ["D1"]
    assert "C:0:SP" in await admin.export_pvs("csv")
    created = await admin.import_pvs("Setpoint,Readback,Area\nC:9:SP,C:9:RB,RING\n")
    assert created.created_count == 1 and created.tags_created == 1
    assert (await admin.delete_pv(created.ids[0])).deleted

    assert (await admin.live_values(["C:0:SP"]))["C:0:SP"]["value"] == 0.0
    assert (await admin.live_all())["count"] >= 6
    assert (await admin.cache_status()).cachedPvCount >= 6

    ring = await admin.create_tag_group("Ring", "storage ring")
    added = await admin.add_tag(ring.id, "SR1")
    assert added.was_created and not (await admin.add_tag(ring.id, "sr1", skip_duplicates=True)).was_created
    renamed = await admin.update_tag(ring.id, added.group.tags[0].id, NameDescriptionPatch(name="SR01"))
    assert [t.name for t in renamed.tags] == ["SR01"]
    assert (await admin.update_tag_group(ring.id, NameDescriptionPatch(description="SR"))).description == "SR"
    assert (await admin.delete_tag(ring.id, added.group.tags[0].id)).tags == []
    assert (await admin.delete_tag_group(ring.id)).deleted

    sched = await admin.create_schedule(NewScheduleBody(name="nightly", cron="0 3 * * *", title="night"))
    assert [s.id for s in await admin.list_schedules()] == [sched.id]
    assert (await admin.update_schedule(sched.id, UpdateScheduleBody(enabled=False))).enabled is False
    assert (await admin.get_schedule(sched.id)).name == "nightly"
    assert (await admin.delete_schedule(sched.id)).deleted

    key = await admin.create_key("ops-script", ["read"])
    assert key.token and key.token.startswith("sq_")
    assert key.id in {k.id for k in await admin.list_keys()}
    assert await admin.count_keys()
    assert (await admin.revoke_key(key.id)).is_active is False
    audit = await admin.audit(action="api_key.revoke", limit=5)
    assert [(e.action, e.resource_id) for e in audit.results] == [("api_key.revoke", str(key.id))]
    assert "connected" in await admin.health("summary")
    assert "monitor_alive" in await admin.health("heartbeat")
    assert "checks" in await admin.readyz()


async def test_problems_become_typed_exceptions(server: RunningServer, admin: AsyncClient) -> None:
    with pytest.raises(NotFoundError) as missing:
        await admin.get_snapshot(UNKNOWN)
    assert missing.value.status == 404 and missing.value.slug == "not-found" and UNKNOWN in missing.value.detail
    await admin.create_pv(NewPVElementDTO(setpoint_address="DUP:SP"))
    with pytest.raises(ConflictError) as dup:
        await admin.create_pv(NewPVElementDTO(setpoint_address="DUP:SP"))
    assert dup.value.status == 409 and "DUP:SP" in dup.value.detail
    with pytest.raises(BadRequestError) as bad:
        await admin.page_pvs(page_size=0)
    assert bad.value.status == 400 and "pageSize" in bad.value.detail
    async with AsyncClient(server.url, server.tokens["read"]) as reader:
        with pytest.raises(AuthError) as denied:
            await reader.create_pv(NewPVElementDTO(setpoint_address="RO:SP"))
        assert denied.value.status == 403 and denied.value.type.endswith("/forbidden")
    async with AsyncClient(server.url, "sq_wrong") as stranger:
        with pytest.raises(AuthError) as unknown_key:
            await stranger.list_snapshots()
        assert unknown_key.value.status == 401
    async with AsyncClient("http://127.0.0.1:9") as nowhere:
        with pytest.raises(ConnectError) as down:
            await nowhere.list_snapshots()
        assert down.value.status == 0 and isinstance(down.value, ApiError)


class _Recording(httpx.HTTPTransport):
    """The real transport, recording each request path; with `refuse_streams` job event streams fail
    the way they do behind a proxy that drops them."""

    def __init__(self, refuse_streams: bool) -> None:
        super().__init__()
        self.refuse_streams = refuse_streams
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if self.refuse_streams and request.url.path.endswith("/events"):
            raise httpx.RemoteProtocolError("stream dropped", request=request)
        return super().handle_request(request)


def _sync_snapshot_and_wait(server: RunningServer, transport: _Recording) -> tuple[Job, list[Job]]:
    seen: list[Job] = []
    with Client(server.url, server.tokens["admin"], transport=transport) as sq:
        queued = sq.create_snapshot(NewSnapshotBody(title="sync"))
        return sq.wait_job(queued.job_id, seen.append, timeout=30), seen


@pytest.mark.parametrize("refuse_streams", [False, True])
async def test_sync_client_waits_by_sse_or_by_polling(server: RunningServer, refuse_streams: bool) -> None:
    async with AsyncClient(server.url, server.tokens["admin"]) as admin:
        await _registry(server, admin)
    transport = _Recording(refuse_streams)
    job, seen = await asyncio.to_thread(_sync_snapshot_and_wait, server, transport)
    assert job.status == "completed" and seen and seen[-1] == job
    polls = [p for p in transport.paths if p == f"/v1/jobs/{job.id}"]
    assert any(p.endswith("/events") for p in transport.paths)
    assert bool(polls) is refuse_streams  # the stream alone suffices; without it, GET /v1/jobs/{id} is polled


class _AsyncRecording(httpx.AsyncHTTPTransport):
    """`_Recording` for the asyncio client."""

    def __init__(self, refuse_streams: bool) -> None:
        super().__init__()
        self.refuse_streams = refuse_streams
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if self.refuse_streams and request.url.path.endswith("/events"):
            raise httpx.RemoteProtocolError("stream dropped", request=request)
        return await super().handle_async_request(request)


@pytest.mark.parametrize("refuse_streams", [False, True])
async def test_async_client_waits_by_sse_or_by_polling(server: RunningServer, refuse_streams: bool) -> None:
    transport = _AsyncRecording(refuse_streams)
    seen: list[Job] = []
    async with AsyncClient(server.url, server.tokens["admin"], transport=transport) as sq:
        await _registry(server, sq)
        queued = await sq.create_snapshot(NewSnapshotBody(title="async"))
        job = await sq.wait_job(queued.job_id, seen.append, timeout=30)
    assert job.status == "completed" and seen and seen[-1] == job
    polls = [p for p in transport.paths if p == f"/v1/jobs/{job.id}"]
    assert any(p.endswith("/events") for p in transport.paths)
    assert bool(polls) is refuse_streams  # the stream alone suffices; without it, GET /v1/jobs/{id} is polled


async def test_wait_job_of_unknown_job_raises_not_found(admin: AsyncClient) -> None:
    with pytest.raises(NotFoundError):
        await admin.wait_job(UNKNOWN, timeout=10)


async def test_live_events_stream_initial_values(server: RunningServer, admin: AsyncClient) -> None:
    put_value(server.ctx.cache, "L:1", 3.5)
    stream = admin.live_events(pvs=["L:1"])
    event, data = await asyncio.wait_for(anext(stream), 10)
    await stream.aclose()
    assert event == "initial" and data["data"]["L:1"]["value"] == 3.5
