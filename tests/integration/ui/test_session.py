"""The console's sign-in module against a real key store: who a cookie signs in (unknown, revoked, valid,
blank) and the edges of sign-in/sign-out over HTTP that the console e2e tests do not walk (an empty or
padded key, a sign-out without a CSRF cookie or without the form field)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar, Request
from litestar.datastructures import State

from squirrel.api.auth import COOKIE
from squirrel.api.cookie_auth import CSRF_COOKIE
from squirrel.services.context import ServiceContext, build_context
from squirrel.services.keys import SYSTEM, KeyService
from squirrel.ui._session import principal_from_cookie
from tests.conftest import Api, make_settings


@pytest.fixture
async def keys(database_url: str) -> AsyncIterator[KeyService]:
    context: ServiceContext
    async with build_context(make_settings(database_url, migrate_on_start=False), for_command=True) as context:
        yield KeyService(context)


def _request(service: KeyService, cookie: str | None) -> Request[Any, Any, Any]:
    app = Litestar(route_handlers=[], state=State({"key_service": service}))
    headers = [(b"cookie", cookie.encode())] if cookie is not None else []
    scope = {
        "type": "http", "method": "GET", "path": "/ui/", "raw_path": b"/ui/", "query_string": b"",
        "headers": headers, "scheme": "http", "server": ("testserver", 80), "root_path": "", "state": {},
        "litestar_app": app,
    }  # fmt: skip
    return Request(scope)  # type: ignore[arg-type]


async def test_the_cookie_signs_in_its_key_until_it_is_revoked(keys: KeyService) -> None:
    made = await keys.create(SYSTEM, "console", ["write"])
    principal = await principal_from_cookie(_request(keys, f"{COOKIE}={made.token}"))
    assert principal is not None and principal.name == "console" and principal.key_id == made.id
    await keys.revoke(SYSTEM, made.id)
    assert await principal_from_cookie(_request(keys, f"{COOKIE}={made.token}")) is None


async def test_no_blank_or_unknown_cookie_signs_nobody_in(keys: KeyService) -> None:
    assert await principal_from_cookie(_request(keys, None)) is None
    assert await principal_from_cookie(_request(keys, f"{COOKIE}=")) is None
    assert await principal_from_cookie(_request(keys, f"{COOKIE}=sq_unknown")) is None
    assert await principal_from_cookie(_request(keys, f"{COOKIE}=not-even-a-token")) is None
    other = await keys.create(SYSTEM, "other", ["read"])
    assert await principal_from_cookie(_request(keys, f"other_cookie={other.token}")) is None  # only ours counts


async def test_an_empty_key_is_refused_and_a_padded_one_is_accepted(api: Api) -> None:
    r = await api.client.post("/ui/signin", data={"key": "   "}, follow_redirects=False)
    assert r.status_code == 401 and "unknown or revoked" in r.text
    assert COOKIE not in api.client.cookies
    r = await api.client.post("/ui/signin", data={"key": f"  {api.tokens['read']}\n"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/"
    assert api.client.cookies[COOKIE] == api.tokens["read"]  # stored without the padding


async def test_sign_out_needs_the_csrf_cookie_and_the_same_value_in_the_form(api: Api) -> None:
    # Neither cookie nor field: two empty strings must not count as a match.
    r = await api.client.post("/ui/signout", data={"csrf": ""}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/"
    assert not r.headers.get_list("set-cookie")
    r = await api.client.post("/ui/signin", data={"key": api.tokens["read"]}, follow_redirects=False)
    assert r.status_code == 303
    csrf = api.client.cookies[CSRF_COOKIE]
    r = await api.client.post("/ui/signout", data={}, follow_redirects=False)  # the field missing
    assert r.headers["location"] == "/ui/" and api.client.cookies[COOKIE] == api.tokens["read"]
    r = await api.client.post("/ui/signout", data={"csrf": csrf.upper() + "x"}, follow_redirects=False)
    assert r.headers["location"] == "/ui/" and api.client.cookies[COOKIE] == api.tokens["read"]
    r = await api.client.post("/ui/signout", data={"csrf": csrf}, follow_redirects=False)
    assert r.headers["location"] == "/ui/signin" and COOKIE not in api.client.cookies


async def test_the_sign_in_page_redirects_a_signed_in_browser_and_clears_a_dead_session(api: Api) -> None:
    r = await api.client.get("/ui/signin", follow_redirects=False)
    assert r.status_code == 200 and "session ended" not in r.text and not r.headers.get_list("set-cookie")
    await api.client.post("/ui/signin", data={"key": api.tokens["read"]}, follow_redirects=False)
    r = await api.client.get("/ui/signin", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/"
    api.client.cookies.set(COOKIE, "sq_forged")
    r = await api.client.get("/ui/signin", follow_redirects=False)
    assert r.status_code == 200 and "session ended" in r.text
    cleared = r.headers.get_list("set-cookie")
    assert any(c.startswith(f"{COOKIE}=") for c in cleared) and any(c.startswith(f"{CSRF_COOKIE}=") for c in cleared)
