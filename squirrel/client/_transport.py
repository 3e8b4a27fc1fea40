"""The two thin transports: `Client` (blocking) and `AsyncClient` (asyncio) over httpx.

Every operation comes from the route mixins (built once); here are only the sending, the event streams,
and the carrying out of the job-following steps that squirrel.client._follow decides (SSE on
/v1/jobs/{id}/events, polling when the stream is not available).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from typing import Any, Generic, Self, TypeVar

import httpx
import msgspec

from squirrel.client._calls import AsyncSender, Call, Id, Params, SyncSender, json_or_none, query, seg
from squirrel.client._config import ClientConfig
from squirrel.client._dto import Job
from squirrel.client._errors import ConnectError, error_for
from squirrel.client._follow import FETCH, STREAM_IDLE, Sleep, job_steps, next_step
from squirrel.client._routes_admin import AdminRoutes
from squirrel.client._routes_registry import RegistryRoutes
from squirrel.client._routes_snapshots import SnapshotRoutes
from squirrel.client._sse import Event, EventParser

T = TypeVar("T")
Http = TypeVar("Http", httpx.Client, httpx.AsyncClient)
Transport = TypeVar("Transport", httpx.BaseTransport, httpx.AsyncBaseTransport)


class StreamUnavailable(Exception):
    """The event stream could not be used; the caller polls instead."""


def _request_options(call: Call[Any]) -> dict[str, Any]:
    headers = {"content-type": call.content_type} if call.content_type else None
    return {"method": call.method, "url": call.path, "params": call.params, "content": call.content, "headers": headers}


def _unreachable(config: ClientConfig, exc: httpx.HTTPError) -> ConnectError:
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
        return ConnectError(f"no answer from {config.url} in time ({exc.__class__.__name__})")
    return ConnectError(f"cannot reach {config.url}: {exc.__class__.__name__}: {exc}".rstrip(": "))


def _stream_timeout(http: httpx.Client | httpx.AsyncClient, idle: float | None) -> httpx.Timeout:
    return httpx.Timeout(http.timeout.connect or 10.0, read=idle)


def _refused(r: httpx.Response) -> bool:
    return r.status_code != 200 or not r.headers.get("content-type", "").startswith("text/event-stream")


def _stream_error(r: httpx.Response, body: bytes) -> Exception:
    """A refused stream: 4xx problems are the caller's error; anything else means 'poll instead'."""
    if 400 <= r.status_code < 500:
        return error_for(r.status_code, json_or_none(body), body.decode("utf-8", "replace"))
    return StreamUnavailable(f"HTTP {r.status_code} {r.headers.get('content-type', '')}")


def _live_params(pvs: list[str] | None, tags: list[Id] | None, all: bool | None) -> Params:
    return query(pvs=pvs, tags=tags, all=all)


def _live_failed(config: ClientConfig, exc: StreamUnavailable) -> ConnectError:
    return ConnectError(f"live event stream from {config.url} failed: {exc}")


def _job_events_path(job_id: Id) -> str:
    return f"/v1/jobs/{seg(job_id)}/events"


def _next_event(events: Iterator[Event]) -> Event | None:
    try:
        return next(events, None)
    except StreamUnavailable:
        return None


async def _anext_event(events: AsyncIterator[Event]) -> Event | None:
    try:
        return await anext(events, None)
    except StreamUnavailable:
        return None


def _last(job: Job | None) -> Job:
    assert job is not None, "following a job yields at least the finished job"
    return job


class _ClientBase(RegistryRoutes, SnapshotRoutes, AdminRoutes, Generic[Http, Transport]):
    """Every /v1 operation (see the mixins), and the settings both clients start from."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        key_file: str | None = None,
        timeout: float = 30.0,
        transport: Transport | None = None,
    ) -> None:
        self.config = ClientConfig.resolve(url, api_key, key_file)
        self._http: Http = self._open(
            transport, base_url=self.config.url, headers=self.config.headers(), timeout=timeout
        )

    @staticmethod
    def _open(transport: Transport | None, **options: Any) -> Http:
        raise NotImplementedError


class Client(SyncSender, _ClientBase[httpx.Client, httpx.BaseTransport]):
    """Blocking client: `with Client() as sq: sq.list_snapshots()`."""

    @staticmethod
    def _open(transport: httpx.BaseTransport | None, **options: Any) -> httpx.Client:
        return httpx.Client(transport=transport, **options)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: Call[T]) -> T:
        try:
            r = self._http.request(**_request_options(call))
        except httpx.HTTPError as exc:
            raise _unreachable(self.config, exc) from exc
        return call.answer(r.status_code, r.content)

    def _events(self, path: str, params: Params, idle: float | None) -> Generator[Event, None, None]:
        try:
            with self._http.stream("GET", path, params=params, timeout=_stream_timeout(self._http, idle)) as r:
                if _refused(r):
                    raise _stream_error(r, r.read())
                parser = EventParser()
                for line in r.iter_lines():
                    if (event := parser.feed(line)) is not None:
                        yield event
        except httpx.HTTPError as exc:
            raise StreamUnavailable(str(exc)) from exc

    def follow_job(
        self, job_id: Id, *, timeout: float | None = None, poll_interval: float = 0.5
    ) -> Generator[Job, None, None]:
        """The job each time it changes, ending with the finished job (SSE; polling if the stream fails)."""
        steps, events = job_steps(timeout, poll_interval), self._events(_job_events_path(job_id), (), STREAM_IDLE)
        answer: Event | Job | None = None
        try:
            while (step := next_step(steps, answer)) is not None:
                answer = None
                if isinstance(step, Job):
                    yield step
                elif isinstance(step, Sleep):
                    time.sleep(step.seconds)
                elif step is FETCH:
                    answer = self.get_job(job_id)
                else:
                    answer = _next_event(events)
        finally:
            events.close()

    def wait_job(
        self, job_id: Id, on_progress: Callable[[Job], Any] | None = None, *, timeout: float | None = None
    ) -> Job:
        """Block until the job finishes; returns it (check `status`; a restore's outcome: `restore_outcome()`)."""
        job: Job | None = None
        for job in self.follow_job(job_id, timeout=timeout):
            if on_progress is not None:
                on_progress(job)
        return _last(job)

    def live_events(
        self, pvs: list[str] | None = None, tags: list[Id] | None = None, all: bool | None = None
    ) -> Generator[tuple[str, Any], None, None]:
        """(event, decoded data) from /v1/live/events: `initial`, then `diff`s and `heartbeat`s, endlessly."""
        try:
            for event in self._events("/v1/live/events", _live_params(pvs, tags, all), None):
                yield event.event, msgspec.json.decode(event.data)
        except StreamUnavailable as exc:
            raise _live_failed(self.config, exc) from exc


class AsyncClient(AsyncSender, _ClientBase[httpx.AsyncClient, httpx.AsyncBaseTransport]):
    """asyncio client: `async with AsyncClient() as sq: await sq.list_snapshots()`."""

    @staticmethod
    def _open(transport: httpx.AsyncBaseTransport | None, **options: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=transport, **options)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, call: Call[T]) -> T:
        try:
            r = await self._http.request(**_request_options(call))
        except httpx.HTTPError as exc:
            raise _unreachable(self.config, exc) from exc
        return call.answer(r.status_code, r.content)

    async def _events(self, path: str, params: Params, idle: float | None) -> AsyncGenerator[Event, None]:
        try:
            async with self._http.stream("GET", path, params=params, timeout=_stream_timeout(self._http, idle)) as r:
                if _refused(r):
                    raise _stream_error(r, await r.aread())
                parser = EventParser()
                async for line in r.aiter_lines():
                    if (event := parser.feed(line)) is not None:
                        yield event
        except httpx.HTTPError as exc:
            raise StreamUnavailable(str(exc)) from exc

    async def follow_job(
        self, job_id: Id, *, timeout: float | None = None, poll_interval: float = 0.5
    ) -> AsyncGenerator[Job, None]:
        """The job each time it changes, ending with the finished job (SSE; polling if the stream fails)."""
        steps, events = job_steps(timeout, poll_interval), self._events(_job_events_path(job_id), (), STREAM_IDLE)
        answer: Event | Job | None = None
        try:
            while (step := next_step(steps, answer)) is not None:
                answer = None
                if isinstance(step, Job):
                    yield step
                elif isinstance(step, Sleep):
                    await asyncio.sleep(step.seconds)
                elif step is FETCH:
                    answer = await self.get_job(job_id)
                else:
                    answer = await _anext_event(events)
        finally:
            await events.aclose()

    async def wait_job(
        self, job_id: Id, on_progress: Callable[[Job], Any] | None = None, *, timeout: float | None = None
    ) -> Job:
        """Wait until the job finishes; returns it."""
        job: Job | None = None
        async for job in self.follow_job(job_id, timeout=timeout):
            if on_progress is not None:
                on_progress(job)
        return _last(job)

    async def live_events(
        self, pvs: list[str] | None = None, tags: list[Id] | None = None, all: bool | None = None
    ) -> AsyncGenerator[tuple[str, Any], None]:
        """(event, decoded data) from /v1/live/events: `initial`, then `diff`s and `heartbeat`s, endlessly."""
        try:
            async for event in self._events("/v1/live/events", _live_params(pvs, tags, all), None):
                yield event.event, msgspec.json.decode(event.data)
        except StreamUnavailable as exc:
            raise _live_failed(self.config, exc) from exc
