"""Bad input on the SSE stream: a Last-Event-ID we could not have sent starts a fresh stream, and no
error path leaves a subscriber behind (the SSE client gauge must come back to zero)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from squirrel.services.live import broadcaster_of, parse_event_id
from tests.conftest import make_settings
from tests.support.server import RunningServer, feed, run_server, sse


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with run_server(make_settings(database_url, sse_heartbeat=0.5)) as s:
        yield s


async def no_subscribers(server: RunningServer) -> None:
    broadcaster = broadcaster_of(server.ctx)
    async with asyncio.timeout(5):
        while broadcaster.subscribers("sse"):  # noqa: ASYNC110  (polling the gauge is the point)
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("raw", [b"\xb2", b"9" * 5000, b"-1", b"abc", b"1.5", b"", b"7e3"])
async def test_bad_last_event_id_gives_a_fresh_stream_and_no_leak(server: RunningServer, raw: bytes) -> None:
    feed(server.ctx.cache, "T:L", 1.0)
    async with server.client() as client:
        for _ in range(3):
            async with sse(client, "/v1/live/events?pvs=T:L", headers={"Last-Event-ID": raw}) as stream:
                assert stream.response.status_code == 200
                first = await stream.next()
                assert first.event == "initial" and first.id == 1
    await no_subscribers(server)


async def test_refused_streams_leave_no_subscriber(server: RunningServer) -> None:
    async with server.client() as client:
        for url in ("/v1/live/events", "/v1/live/events?tags=not-a-uuid", "/v1/live/events?pvs=A&bogus=1"):
            r = await client.get(url)
            assert r.status_code == 400, r.text
    await no_subscribers(server)


def test_parse_event_id() -> None:
    assert parse_event_id("41") == 41
    assert parse_event_id(" 41 ") == 41
    for bad in (None, "", "²", "٣", "9" * 19, "-1", "1e3", "0x10"):
        assert parse_event_id(bad) is None
