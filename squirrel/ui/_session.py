"""Sign-in and sign-out: the pasted API key becomes the HttpOnly `squirrel_key` cookie, beside the
`squirrel_csrf` cookie that the page's JavaScript echoes in X-Squirrel-CSRF (double submit)."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from squirrel.api.auth import COOKIE
from squirrel.api.cookie_auth import CSRF_COOKIE, origin_allowed
from squirrel.api.deps import CtxDep, KeyServiceDep, key_service_of
from squirrel.model import Principal

PUBLIC = {"scope": "public"}


def _secure(request: Request[Any, Any, Any]) -> bool:
    # A proxy chain lists one scheme per hop ("https, http"): the first is what the browser used.
    forwarded = request.headers.get("x-forwarded-proto", "").split(",", 1)[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def session_cookies(request: Request[Any, Any, Any], token: str) -> list[Cookie]:
    secure = _secure(request)
    return [
        Cookie(key=COOKIE, value=token, path="/", httponly=True, samesite="strict", secure=secure),
        # Readable by the page's JavaScript on purpose: it is the CSRF token, not a secret credential.
        Cookie(key=CSRF_COOKIE, value=secrets.token_urlsafe(24), path="/", samesite="strict", secure=secure),
    ]


def cleared_cookies() -> list[Cookie]:
    return [Cookie(key=name, value="", path="/", max_age=0, expires=0) for name in (COOKIE, CSRF_COOKIE)]


async def principal_from_cookie(request: Request[Any, Any, Any]) -> Principal | None:
    """Who the console's cookie signs in (None: no cookie, or a revoked or unknown key)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    return await key_service_of(request).authenticate(token)


def _signin_page(message: str | None, status: int) -> Template:
    return Template("signin.html", context={"message": message}, status_code=status)


class SessionController(Controller):
    path = "/ui"
    include_in_schema = False

    @get("/signin", opt=PUBLIC)
    async def signin_form(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        if await principal_from_cookie(request) is not None:
            return Redirect("/ui/", status_code=303)
        expired = request.cookies.get(COOKIE) is not None
        message = "Your session ended (the key is unknown or was revoked). Sign in again." if expired else None
        return Template("signin.html", context={"message": message}, cookies=cleared_cookies() if expired else [])

    @post("/signin", opt=PUBLIC, status_code=303)
    async def signin(
        self, request: Request[Any, Any, Any], ctx: CtxDep, key_service: KeyServiceDep
    ) -> Redirect | Template:
        # Another site must not sign the operator in with its own key (login CSRF): browsers send Origin.
        origin = request.headers.get("origin")
        cors = ctx.settings.cors_origins
        if origin is not None and not origin_allowed(origin, request.headers.get("host", ""), cors):
            return _signin_page(f"Sign-in refused: the form was sent from another site ({origin}).", 403)
        form = await request.form()
        token = str(form.get("key", "")).strip()
        principal = await key_service.authenticate(token) if token else None
        if principal is None:
            address = request.client.host if request.client else "unknown"
            retry_after = key_service.failures.fail(address)
            if retry_after is not None:
                return _signin_page(f"Too many failed attempts from {address}; retry in {retry_after} s.", 429)
            return _signin_page("That API key is unknown or revoked.", 401)
        return Redirect("/ui/", status_code=303, cookies=session_cookies(request, token))

    @post("/signout", opt=PUBLIC, status_code=303)
    async def signout(self, request: Request[Any, Any, Any]) -> Redirect:
        # The form carries the CSRF value: another site cannot sign the operator out either.
        form = await request.form()
        sent = str(form.get("csrf", ""))
        expected = request.cookies.get(CSRF_COOKIE, "")
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            return Redirect("/ui/", status_code=303)
        return Redirect("/ui/signin", status_code=303, cookies=cleared_cookies())
