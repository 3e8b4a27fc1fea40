"""No API key reaches the log, however the query string is percent-encoded (real uvicorn, real log)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from websockets.asyncio.client import connect

from squirrel.logsetup import configure_logging, mask_text
from tests.conftest import make_settings
from tests.support.server import run_server


@asynccontextmanager
async def logging_server(database_url: str) -> AsyncIterator[tuple[str, str]]:
    """The app under uvicorn configured as `squirrel serve` does (our log handlers, info level)."""
    configure_logging("info", json=True)
    try:
        async with run_server(make_settings(database_url), log_config=None, log_level="info") as server:
            yield f"127.0.0.1:{server.port}", server.tokens["read"]
    finally:
        configure_logging("warning", json=False)  # as tests/conftest.py


async def test_percent_encoded_keys_are_masked_in_the_log(database_url: str, capfd: pytest.CaptureFixture[str]) -> None:
    async with logging_server(database_url) as (host, token):
        secret = token[3:]
        encoded = "sq%5F" + secret
        async with httpx.AsyncClient(base_url=f"http://{host}", timeout=10) as client:
            for url in (
                f"/v1/pvs/live?pv_names=X&api_key={encoded}",
                f"/v1/pvs/live?api%5Fkey={token}",
                f"/v1/pvs/live?%61pi_key={encoded}",
                f"/v1/pvs/live%253Fapi_key=sq%255F{secret}",  # the server decodes the path once
                f"/v1/pvs/live?pv_names=X&api_key=sq_{secret[:4]}%2D{secret[4:]}",
            ):
                await client.get(url)
            async with client.stream("GET", f"/v1/live/events?pvs=X&api_key={encoded}") as r:
                assert r.status_code == 200  # the encoded key is a good key
                async for line in r.aiter_lines():
                    if line.startswith("data:"):
                        break
        for query in (f"?api_key={encoded}", f"?api%5Fkey={token}", f"?api_key={token}"):
            async with connect(f"ws://{host}/v1/ws/pvs{query}") as ws:
                await ws.send(json.dumps({"type": "ping"}))
                await ws.recv()
    out, err = capfd.readouterr()
    log = out + err
    assert '"path": "/v1/pvs/live"' in log and "WebSocket /v1/ws/pvs" in log  # the requests were logged
    assert secret not in log and secret[:12] not in log
    assert "api_key=sq" not in log


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/v1/live/events?pvs=A&api_key=sq_abcdefghijkl", "/v1/live/events"),
        (
            '1.2.3.4:5 - "WebSocket /v1/ws/pvs?api_key=sq%5Fabcdefghijkl" [accepted]',
            '1.2.3.4:5 - "WebSocket /v1/ws/pvs" [accepted]',
        ),
        ("GET http://h:1/v1/x?api%5Fkey=anything HTTP/1.1", "GET http://h:1/v1/x HTTP/1.1"),
        ("token sq%255Fabcdefghijkl seen", "token sq_*** seen"),
        ("form api_key=not-a-token&x=1", "form api_key=***&x=1"),
        ("50% done, why?", "50% done, why?"),
        ("url=/v1/x?pvs=A (see /v1/y?b=2)", "url=/v1/x (see /v1/y)"),
    ],
)
def test_mask_text(text: str, expected: str) -> None:
    assert mask_text(text) == expected
