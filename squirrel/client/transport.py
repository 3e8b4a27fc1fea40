"""The two thin transports: `Client` (blocking) and `AsyncClient` (asyncio) over httpx.

Every operation comes from the route mixins (built once); here are only the sending, the job following
(SSE on /v1/jobs/{id}/events, polling when the stream is not available) and the live-value stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any, Self, TypeVar

import httpx
import msgspec

from squirrel.client.calls import AsyncSender, Call, Id, Params, SyncSender, json_or_none, query, seg
from squirrel.client.config import ClientConfig
from squirrel.client.dto import Job
from squirrel.client.errors import ConnectError, error_for
from squirrel.client.routes_admin import AdminRoutes
from squirrel.client.routes_registry import RegistryRoutes
from squirrel.client.routes_snapshots import SnapshotRoutes
from squirrel.client.sse import Event, EventParser

T = TypeVar("T")
STREAM_IDLE = 15.0  # a job stream silent this long is given up for polling (job streams have no heartbeat)
_decode_job = msgspec.json.Decoder(Job).decode


class StreamUnavailable(Exception):
    """The event stream could not be used; the caller polls instead."""


def _unreachable(config: ClientConfig, exc: httpx.HTTPError) -> ConnectError:
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
        return ConnectError(f"no answer from {config.url} in time ({exc.__class__.__name__})")
    return ConnectError(f"cannot reach {config.url}: {exc.__class__.__name__}: {exc}".rstrip(": "))


def _stream_error(status: int, body: bytes, content_type: str) -> Exception:
    """A refused stream: 4xx problems are the caller's error; anything else means 'poll instead'."""
    if 400 <= status < 500:
        return error_for(status, json_or_none(body), body.decode("utf-8", "replace"))
    return StreamUnavailable(f"HTTP {status} {content_type}")


def _job_event(event: Event) -> Job | None:
    return _decode_job(event.data) if event.event in ("progress", "done") else None


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the job did not finish in time")
    return left


class _Routes(RegistryRoutes, SnapshotRoutes, AdminRoutes):
    """Every /v1 operation (see the mixins)."""


class Client(SyncSender, _Routes):
    """Blocking client: `with Client() as sq: sq.list_snapshots()`."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        key_file: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = ClientConfig.resolve(url, api_key, key_file)
        self._http = httpx.Client(
            base_url=self.config.url, headers=self.config.headers(), timeout=timeout, transport=transport
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: Call[T]) -> T:
        headers = {"content-type": call.content_type} if call.content_type else None
        try:
            r = self._http.request(call.method, call.path, params=call.params, content=call.content, headers=headers)
        except httpx.HTTPError as exc:
            raise _unreachable(self.config, exc) from exc
        return call.answer(r.status_code, r.content)

    def _events(self, path: str, params: Params, idle: float | None) -> Generator[Event, None, None]:
        timeout = httpx.Timeout(self._http.timeout.connect or 10.0, read=idle)
        try:
            with self._http.stream("GET", path, params=params, timeout=timeout) as r:
                ctype = r.headers.get("content-type", "")
                if r.status_code != 200 or not ctype.startswith("text/event-stream"):
                    raise _stream_error(r.status_code, r.read(), ctype)
                parser = EventParser()
                for line in r.iter_lines():
                    event = parser.feed(line)
                    if event is not None:
                        yield event
        except httpx.HTTPError as exc:
            raise StreamUnavailable(str(exc)) from exc

    def follow_job(
        self, job_id: Id, *, timeout: float | None = None, poll_interval: float = 0.5
    ) -> Generator[Job, None, None]:
        """The job each time it changes, ending with the finished job (SSE; polling if the stream fails)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            for event in self._events(f"/v1/jobs/{seg(job_id)}/events", (), STREAM_IDLE):
                job = _job_event(event)
                if job is not None:
                    yield job
                    if job.finished:
                        return
                _remaining(deadline)
        except StreamUnavailable:
            pass
        while True:
            job = self.get_job(job_id)
            yield job
            if job.finished:
                return
            left = _remaining(deadline)
            time.sleep(poll_interval if left is None else min(poll_interval, left))

    def wait_job(
        self, job_id: Id, on_progress: Callable[[Job], Any] | None = None, *, timeout: float | None = None
    ) -> Job:
        """Block until the job finishes; returns it (check `status`; a restore's outcome: `restore_outcome()`)."""
        job: Job | None = None
        for job in self.follow_job(job_id, timeout=timeout):
            if on_progress is not None:
                on_progress(job)
        assert job is not None
        return job

    def live_events(
        self, pvs: list[str] | None = None, tags: list[Id] | None = None, all: bool | None = None
    ) -> Generator[tuple[str, Any], None, None]:
        """(event, decoded data) from /v1/live/events: `initial`, then `diff`s and `heartbeat`s, endlessly."""
        params = query(pvs=pvs, tags=tags, all=all)
        try:
            for event in self._events("/v1/live/events", params, None):
                yield event.event, msgspec.json.decode(event.data)
        except StreamUnavailable as exc:
            raise ConnectError(f"live event stream from {self.config.url} failed: {exc}") from exc


class AsyncClient(AsyncSender, _Routes):
    """asyncio client: `async with AsyncClient() as sq: await sq.list_snapshots()`."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        key_file: str | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = ClientConfig.resolve(url, api_key, key_file)
        self._http = httpx.AsyncClient(
            base_url=self.config.url, headers=self.config.headers(), timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, call: Call[T]) -> T:
        headers = {"content-type": call.content_type} if call.content_type else None
        try:
            r = await self._http.request(
                call.method, call.path, params=call.params, content=call.content, headers=headers
            )
        except httpx.HTTPError as exc:
            raise _unreachable(self.config, exc) from exc
        return call.answer(r.status_code, r.content)

    async def _events(self, path: str, params: Params, idle: float | None) -> AsyncGenerator[Event, None]:
        timeout = httpx.Timeout(self._http.timeout.connect or 10.0, read=idle)
        try:
            async with self._http.stream("GET", path, params=params, timeout=timeout) as r:
                ctype = r.headers.get("content-type", "")
                if r.status_code != 200 or not ctype.startswith("text/event-stream"):
                    raise _stream_error(r.status_code, await r.aread(), ctype)
                parser = EventParser()
                async for line in r.aiter_lines():
                    event = parser.feed(line)
                    if event is not None:
                        yield event
        except httpx.HTTPError as exc:
            raise StreamUnavailable(str(exc)) from exc

    async def follow_job(
        self, job_id: Id, *, timeout: float | None = None, poll_interval: float = 0.5
    ) -> AsyncGenerator[Job, None]:
        """The job each time it changes, ending with the finished job (SSE; polling if the stream fails)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            async for event in self._events(f"/v1/jobs/{seg(job_id)}/events", (), STREAM_IDLE):
                job = _job_event(event)
                if job is not None:
                    yield job
                    if job.finished:
                        return
                _remaining(deadline)
        except StreamUnavailable:
            pass
        while True:
            job = await self.get_job(job_id)
            yield job
            if job.finished:
                return
            left = _remaining(deadline)
            await asyncio.sleep(poll_interval if left is None else min(poll_interval, left))

    async def wait_job(
        self, job_id: Id, on_progress: Callable[[Job], Any] | None = None, *, timeout: float | None = None
    ) -> Job:
        """Wait until the job finishes; returns it."""
        job: Job | None = None
        async for job in self.follow_job(job_id, timeout=timeout):
            if on_progress is not None:
                on_progress(job)
        assert job is not None
        return job

    async def live_events(
        self, pvs: list[str] | None = None, tags: list[Id] | None = None, all: bool | None = None
    ) -> AsyncGenerator[tuple[str, Any], None]:
        """(event, decoded data) from /v1/live/events: `initial`, then `diff`s and `heartbeat`s, endlessly."""
        params = query(pvs=pvs, tags=tags, all=all)
        try:
            async for event in self._events("/v1/live/events", params, None):
                yield event.event, msgspec.json.decode(event.data)
        except StreamUnavailable as exc:
            raise ConnectError(f"live event stream from {self.config.url} failed: {exc}") from exc
