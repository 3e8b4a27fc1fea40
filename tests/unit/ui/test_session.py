"""The console's session cookies: the key HttpOnly, the CSRF token readable and fresh per sign-in, both
Secure exactly when the request came over HTTPS (directly or through a proxy), and cleared together."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from squirrel.api.auth import COOKIE
from squirrel.api.cookie_auth import CSRF_COOKIE
from squirrel.ui._session import cleared_cookies, session_cookies


def _request(scheme: str = "http", headers: dict[str, str] | None = None) -> Request[Any, Any, Any]:
    raw = [(b"host", b"squirrel.example")] + [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/ui/signin",
        "raw_path": b"/ui/signin",
        "query_string": b"",
        "headers": raw,
        "scheme": scheme,
        "server": ("squirrel.example", 443 if scheme == "https" else 80),
        "root_path": "",
        "state": {},
    }
    return Request(scope)  # type: ignore[arg-type]


def test_the_key_cookie_is_http_only_and_the_csrf_cookie_is_readable() -> None:
    key, csrf = session_cookies(_request(), "sq_token")
    assert (key.key, key.value, key.path, key.httponly, key.samesite) == (COOKIE, "sq_token", "/", True, "strict")
    assert (csrf.key, csrf.path, csrf.samesite) == (CSRF_COOKIE, "/", "strict")
    assert not csrf.httponly  # the page's JavaScript echoes it in X-Squirrel-CSRF
    assert key.max_age is None and csrf.max_age is None  # session cookies: gone with the browser
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", csrf.value or "")  # 24 random bytes, URL-safe


def test_each_sign_in_gets_a_new_csrf_token() -> None:
    tokens = {session_cookies(_request(), "sq_token")[1].value for _ in range(20)}
    assert len(tokens) == 20


def test_cookies_are_secure_only_over_https() -> None:
    assert not any(c.secure for c in session_cookies(_request("http"), "t"))
    assert all(c.secure for c in session_cookies(_request("https"), "t"))
    behind_proxy = _request("http", {"x-forwarded-proto": "https"})
    assert all(c.secure for c in session_cookies(behind_proxy, "t"))
    assert not any(c.secure for c in session_cookies(_request("http", {"x-forwarded-proto": "http"}), "t"))
    # Case does not matter, and in a proxy chain the first hop's scheme is the browser's.
    for header in ("HTTPS", "https, http", " https "):
        assert all(c.secure for c in session_cookies(_request("http", {"x-forwarded-proto": header}), "t"))
    assert not any(c.secure for c in session_cookies(_request("http", {"x-forwarded-proto": "http, https"}), "t"))


def test_sign_out_clears_both_cookies_at_once() -> None:
    cleared = cleared_cookies()
    assert sorted(c.key for c in cleared) == sorted([COOKIE, CSRF_COOKIE])
    for cookie in cleared:
        # Same path as when set, or the browser keeps the original.
        assert (cookie.value, cookie.path, cookie.max_age, cookie.expires) == ("", "/", 0, 0)
