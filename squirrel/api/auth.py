"""API-key authentication and scope guards.

Every route needs a scope: `opt={"scope": ...}` on the handler, else GET/HEAD need `read` and
everything else `write`; `opt={"read_scope_query": "dryRun"}` lowers it to `read`
when that query flag is true. `opt={"scope": "public"}` opens a route to all.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from squirrel.api.strict import check_body, check_query
from squirrel.errors import AuthenticationError, PermissionDeniedError
from squirrel.model import Principal
from squirrel.services.context import ServiceContext
from squirrel.services.keys import KeyService

ANONYMOUS_READ = Principal(name="anonymous", scopes=frozenset({"read"}))
PUBLIC = "public"
COOKIE = "squirrel_key"


def required_scope(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> str:
    # A route may relax its scope to read when a query flag says it only looks (restore ?dryRun=true).
    # check_query has already refused repeats and anything but true|false, so this reads the one value
    # the handler will bind.
    relax = handler.opt.get("read_scope_query")
    if relax and connection.query_params.get(relax) == "true":
        return "read"
    scope = handler.opt.get("scope")
    if scope:
        return str(scope)
    method = connection.scope.get("method", "GET")
    if str(connection.scope["type"]) == "websocket" or method in ("GET", "HEAD", "OPTIONS"):
        return "read"
    return "write"


def _token(connection: ASGIConnection[Any, Any, Any, Any], allow_query: bool) -> str | None:
    token = connection.headers.get("x-api-key")
    if token:
        return token.strip()
    auth = connection.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if allow_query:
        return connection.query_params.get("api_key") or connection.cookies.get(COOKIE)
    return None


async def resolve_principal(connection: ASGIConnection[Any, Any, Any, Any], allow_query: bool) -> Principal | None:
    ctx: ServiceContext = connection.app.state.ctx
    keys: KeyService = connection.app.state.key_service
    token = _token(connection, allow_query)
    if token:
        principal = await keys.authenticate(token)
        if principal is None:
            raise AuthenticationError("the API key is unknown or revoked")
        return principal
    if ctx.settings.anonymous == "read":
        return ANONYMOUS_READ
    return None


async def scope_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    check_query(connection, handler)  # before any decision on a parameter: parse once, strictly
    scope = required_scope(connection, handler)
    if scope == PUBLIC or connection.scope["path"].startswith("/schema"):
        return
    # Browsers cannot set headers on EventSource/WebSocket: those may pass the key as ?api_key= or cookie.
    allow_query = bool(handler.opt.get("query_key")) or str(connection.scope["type"]) == "websocket"
    principal = await resolve_principal(connection, allow_query)
    if principal is None:
        raise AuthenticationError("an API key is required: send it in the X-API-Key header")
    if not principal.allows(scope):
        raise PermissionDeniedError(
            f"this operation needs the '{scope}' scope; the key '{principal.name}' "
            f"has {', '.join(sorted(principal.scopes)) or 'none'}"
        )
    connection.state.principal = principal
    await check_body(connection, handler)


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal: Principal | None = connection.state.get("principal")
    if principal is None:
        raise AuthenticationError()
    return principal
