"""Following a job, without I/O: one generator decides each next step, both clients only carry them out.

The steps: `NEXT_EVENT` (answer with the next event of the job's SSE stream, or None once that stream is
over or unusable), `FETCH` (answer with the job as GET /v1/jobs/{id} has it now), a `Sleep`, or a `Job`
to hand to the caller. The stream comes first; when it fails or ends before the job finishes, polling.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Final

import msgspec

from squirrel.client._dto import Job
from squirrel.client._sse import Event

STREAM_IDLE = 15.0  # a job stream silent this long is given up for polling (job streams have no heartbeat)
_decode_job = msgspec.json.Decoder(Job).decode


class _Ask:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


NEXT_EVENT: Final = _Ask("NEXT_EVENT")
FETCH: Final = _Ask("FETCH")


@dataclass(frozen=True)
class Sleep:
    seconds: float


Step = Job | Sleep | _Ask
Answer = Event | Job | None
Steps = Generator[Step, Answer, None]


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the job did not finish in time")
    return left


def job_steps(timeout: float | None, poll_interval: float) -> Steps:
    """The steps of following one job until it finishes; raises TimeoutError once `timeout` has passed."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while isinstance(event := (yield NEXT_EVENT), Event):
        if event.event in ("progress", "done"):
            job = _decode_job(event.data)
            yield job
            if job.finished:
                return
        _remaining(deadline)
    while True:
        polled = yield FETCH
        assert isinstance(polled, Job), "FETCH is answered with the job"
        yield polled
        if polled.finished:
            return
        left = _remaining(deadline)
        yield Sleep(poll_interval if left is None else min(poll_interval, left))


def next_step(steps: Steps, answer: Answer) -> Step | None:
    """The step after `answer` (None to start), or None when following is over."""
    try:
        return steps.send(answer)
    except StopIteration:
        return None
