"""ASGI middleware: request logging without bodies or query strings, and the optional /v1 envelope."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import structlog

from squirrel.api import gui_dialect

# Plain ASGI types: this middleware handles raw messages, not Litestar's typed events.
Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = structlog.get_logger("squirrel.request")


def request_log_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            # Path only: query strings may carry ?api_key=.
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )

    return middleware


def envelope_middleware(app: ASGIApp) -> ASGIApp:
    """Wrap every JSON /v1 body as {errorCode, errorMessage, payload} for the released GUI, in its dialect.

    Errors keep their status but are labelled application/json (the GUI's parser wants that type).
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1"):
            await app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        passthrough = False

        async def send_wrapper(message: Message) -> None:
            nonlocal passthrough
            if message["type"] == "http.response.start":
                ctype = dict(message.get("headers", [])).get(b"content-type", b"").decode("latin-1")
                if "json" not in ctype:
                    passthrough = True  # SSE, CSV, ...
                    await send(message)
                    return
                start.update(message)
                return
            if passthrough:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            status = int(start["status"])
            raw = b"".join(chunks)
            payload = msgspec.json.decode(raw) if raw else None
            if status >= 400:
                detail = payload.get("detail") if isinstance(payload, dict) else None
                wrapped = {"errorCode": status, "errorMessage": detail or str(payload), "payload": None}
            else:
                payload = gui_dialect.rewrite(scope["method"], scope["path"], payload)
                wrapped = {"errorCode": 0, "errorMessage": None, "payload": payload}
            body = msgspec.json.encode(wrapped)
            drop = (b"content-length", b"content-type")
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in drop]
            headers.append((b"content-type", b"application/json"))
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, send_wrapper)

    return middleware
