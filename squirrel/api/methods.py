"""HTTP method details Litestar leaves to us (RFC 9110): HEAD on every GET route, OPTIONS answered with
`Allow`, and `Allow` on every 405.

This wraps the whole application (outside routing), because a HEAD or OPTIONS request must be seen
before Litestar's router decides the method is not allowed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Litestar
from litestar.exceptions import MethodNotAllowedException
from litestar.utils import normalize_path

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def route_methods(app: Litestar, path: str) -> set[str] | None:
    """The methods Litestar routes for `path` (None: no such route, or a mounted app that decides itself)."""
    try:
        # No route takes TRACE: asking for it makes the router tell which methods the path does take.
        app.asgi_router.handle_routing(path=normalize_path(path), method="TRACE")
    except MethodNotAllowedException as exc:
        allow = (exc.headers or {}).get("allow", "")
        return {m.strip() for m in allow.split(",") if m.strip() in _HTTP_METHODS}
    except Exception:  # not found, or a path parameter that does not parse
        return None
    return None


def allow_header(methods: set[str]) -> str:
    """The `Allow` value: HEAD wherever GET is (we answer it), and OPTIONS always."""
    allowed = set(methods) | {"OPTIONS"}
    if "GET" in allowed:
        allowed.add("HEAD")
    return ", ".join(sorted(allowed))


def _is_cors_preflight(app: Litestar, scope: Scope) -> bool:
    return app.cors_config is not None and any(k == b"access-control-request-method" for k, _ in scope["headers"])


async def _answer_options(send: Send, allow: str) -> None:
    headers = [(b"allow", allow.encode()), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def http_methods(app: Litestar, inner: ASGIApp) -> ASGIApp:
    """Wrap `inner` (the app's ASGI handler): HEAD runs the GET route without its body, OPTIONS answers
    204 + Allow (CORS preflights go on to the CORS middleware), and a 405 always names what is allowed."""

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS" and not _is_cors_preflight(app, scope):
            methods = route_methods(app, scope["path"])
            if methods is not None:  # unknown paths go on to the usual 404
                await _answer_options(send, allow_header(methods))
                return
        if method == "HEAD":
            methods = route_methods(app, scope["path"])
            if methods is not None and "GET" in methods and "HEAD" not in methods:
                await inner({**scope, "method": "GET"}, receive, _without_body(send))
                return
        await inner(scope, receive, _with_allow(app, scope, send))

    return handler


def _with_allow(app: Litestar, scope: Scope, send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 405:
            headers = list(message.get("headers", []))
            if not any(k.lower() == b"allow" for k, _ in headers):
                methods = route_methods(app, scope["path"]) or set()
                headers.append((b"allow", allow_header(methods).encode()))
                message = {**message, "headers": headers}
        await send(message)

    return wrapped


def _without_body(send: Send) -> Send:
    """A HEAD answer: the GET's status and headers (Content-Length included), and no body."""
    done = False

    async def wrapped(message: Message) -> None:
        nonlocal done
        if message["type"] == "http.response.start":
            await send(message)
        elif message["type"] == "http.response.body" and not done:
            done = True  # the response is complete: a streaming GET sees the client gone and stops
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    return wrapped
