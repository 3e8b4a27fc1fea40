"""The job-following steps both clients carry out: stream first, polling when it fails or ends, the deadline."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from uuid import UUID

import msgspec
import pytest

from squirrel.client import Job
from squirrel.client._follow import FETCH, NEXT_EVENT, Sleep, Steps, job_steps, next_step
from squirrel.client._sse import Event

JOB_ID = UUID("00000000-0000-4000-8000-000000000001")


def _job(status: str, progress: int = 0) -> Job:
    return Job(
        id=JOB_ID, type="snapshot_create", status=status, progress=progress, message="", result_id=None,
        error=None, job_data={}, result=None, created_at=datetime(2026, 1, 1, tzinfo=UTC), started_at=None,
        completed_at=None, created_by="test", attempt=1,
    )  # fmt: skip


def _event(kind: str, job: Job) -> Event:
    return Event(kind, msgspec.json.encode(job).decode())


def _started(steps: Steps) -> Steps:
    assert next_step(steps, None) is NEXT_EVENT  # the stream always comes first
    return steps


def test_the_stream_alone_follows_a_job_to_its_end() -> None:
    steps = _started(job_steps(None, 0.5))
    running, done = _job("running", 40), _job("completed", 100)
    assert next_step(steps, Event("message", "not a job")) is NEXT_EVENT  # other events are passed over
    assert next_step(steps, _event("progress", running)) == running
    assert next_step(steps, None) is NEXT_EVENT
    assert next_step(steps, _event("done", done)) == done
    assert next_step(steps, None) is None  # finished: no polling


@pytest.mark.parametrize("streamed", [0, 1])
def test_a_failed_or_ended_stream_falls_back_to_polling(streamed: int) -> None:
    steps = _started(job_steps(None, 0.5))
    if streamed:
        assert next_step(steps, _event("progress", _job("running", 10))) == _job("running", 10)
        assert next_step(steps, None) is NEXT_EVENT
    assert next_step(steps, None) is FETCH  # None: the stream is over or unusable
    assert next_step(steps, _job("running", 50)) == _job("running", 50)
    assert next_step(steps, None) == Sleep(0.5)
    assert next_step(steps, None) is FETCH
    assert next_step(steps, _job("failed", 50)) == _job("failed", 50)
    assert next_step(steps, None) is None


def test_polling_sleeps_no_longer_than_the_time_left() -> None:
    steps = _started(job_steps(0.2, 60.0))
    assert next_step(steps, None) is FETCH
    assert next_step(steps, _job("running")) == _job("running")
    pause = next_step(steps, None)
    assert isinstance(pause, Sleep) and 0 < pause.seconds <= 0.2


def test_the_deadline_ends_following_in_either_phase() -> None:
    streaming = _started(job_steps(0.01, 0.5))
    time.sleep(0.02)
    with pytest.raises(TimeoutError):
        next_step(streaming, Event("message", "keep-alive"))
    polling = _started(job_steps(0.01, 0.5))
    assert next_step(polling, None) is FETCH
    assert next_step(polling, _job("running")) == _job("running")
    time.sleep(0.02)
    with pytest.raises(TimeoutError):
        next_step(polling, None)
