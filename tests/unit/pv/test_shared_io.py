"""What the CA and PVA paths share: a batch's breaker verdict, its deadline, a monitor's tasks and rate."""

from __future__ import annotations

import asyncio

from squirrel.pv import UpdateRate, record_batch, stop_tasks, wait_batch


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, str | None]] = []

    def record_success(self, server: str | None) -> None:
        self.calls.append(("ok", server, None))

    def record_failure(self, server: str | None, error: str = "timeout") -> None:
        self.calls.append(("failed", server, error))


def test_one_verdict_per_server_and_an_answer_wins() -> None:
    rec = _Recorder()
    outcomes = [
        ("a:1", None), ("a:1", "timeout"),  # answered once: up
        ("b:1", "disconnected"), ("b:1", "timeout"),  # failed once, with its first error
        ("c:1", "put refused"),  # says nothing about the server
        (None, "timeout"),  # no known server
    ]  # fmt: skip
    record_batch(rec, outcomes)
    assert rec.calls == [("ok", "a:1", None), ("failed", "b:1", "disconnected")]


async def test_wait_batch_returns_at_the_deadline_or_when_done() -> None:
    done = asyncio.Event()
    await wait_batch(done, 0.01)  # no answer: returns, no TimeoutError
    done.set()
    await wait_batch(done, 10.0)


async def test_stop_tasks_cancels_and_forgets_them() -> None:
    async def forever() -> None:
        await asyncio.sleep(3600)

    async def fails() -> None:
        raise RuntimeError("ignored on stop")

    tasks = [asyncio.create_task(forever()), asyncio.create_task(fails())]
    await asyncio.sleep(0)
    first = list(tasks)
    await stop_tasks(tasks)
    assert tasks == [] and all(t.done() for t in first)


def test_update_rate() -> None:
    rate = UpdateRate()
    assert rate.per_s == 0.0
    rate._samples.extend([(10.0, 100), (12.0, 300)])
    assert rate.per_s == 100.0
