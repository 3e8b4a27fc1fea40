"""Extra checks for requests the browser authenticates by itself with the `squirrel_key` cookie.

A browser attaches that cookie to requests other sites make it send, so a cookie alone must not be
enough to change anything (double-submit CSRF token) or to open a WebSocket, which CORS does not cover
(the handshake's `Origin` must be ours). Header- and query-key clients chose to send the key and are
exempt.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection

from squirrel.errors import PermissionDeniedError

CSRF_COOKIE = "squirrel_csrf"
CSRF_HEADER = "x-squirrel-csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_cookie_request(connection: ASGIConnection[Any, Any, Any, Any], cors_origins: tuple[str, ...]) -> None:
    """Refuse (403) a cookie-authenticated request that a foreign site could have made."""
    if str(connection.scope["type"]) == "websocket":
        _check_origin(connection, cors_origins)
    elif connection.scope.get("method", "GET") not in SAFE_METHODS:
        _check_csrf(connection)


def _check_csrf(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    expected = connection.cookies.get(CSRF_COOKIE, "")
    sent = connection.headers.get(CSRF_HEADER, "")
    if not expected:
        raise PermissionDeniedError(
            f"a request signed in by the squirrel_key cookie that changes something needs the {CSRF_COOKIE} "
            "cookie and the same value in the X-Squirrel-CSRF header (or send the key in X-API-Key)"
        )
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise PermissionDeniedError("the X-Squirrel-CSRF header is missing or does not match the squirrel_csrf cookie")


def _check_origin(connection: ASGIConnection[Any, Any, Any, Any], cors_origins: tuple[str, ...]) -> None:
    origin = connection.headers.get("origin")
    # Browsers always send Origin on a WebSocket handshake; a client without one is not a browser and
    # could forge any Origin anyway, so there is nothing to check.
    if origin is None or origin_allowed(origin, connection.headers.get("host", ""), cors_origins):
        return
    raise PermissionDeniedError(
        f"a WebSocket signed in by the squirrel_key cookie must come from this site, not from {origin!r} "
        "(allowed: the same host, or an origin listed in SQUIRREL_CORS_ORIGINS)"
    )


def origin_allowed(origin: str, host: str, cors_origins: tuple[str, ...]) -> bool:
    """Same host as the request, or listed explicitly in SQUIRREL_CORS_ORIGINS (`*` allows no one here)."""
    origin = origin.strip().lower().rstrip("/")
    if origin in {o.strip().lower().rstrip("/") for o in cors_origins if o.strip() != "*"}:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False  # "null" (sandboxed frames, file://) and anything odd
    return bool(host) and parts.netloc == host.strip().lower()
