"""API-key authentication and scope guards.

Every route needs a scope: `opt={"scope": ...}` on the handler, else GET/HEAD need `read` and
everything else `write`; `opt={"read_scope_query": "dryRun"}` lowers it to `read`
when that query flag is true. `opt={"scope": "public"}` opens a route to all.

Keys come from X-API-Key (or Bearer), `?api_key=` on streaming routes, or the `squirrel_key` cookie on
every route (with the extra checks of cookie_auth). Failed attempts are rate-limited per client address.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, NoReturn

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from squirrel.api.cookie_auth import check_cookie_request
from squirrel.api.deps import ctx_of, key_service_of
from squirrel.api.strict import check_body, check_query
from squirrel.errors import AuthenticationError, PermissionDeniedError, TooManyRequestsError
from squirrel.model import Principal
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


class Credential(NamedTuple):
    token: str
    source: Literal["header", "query", "cookie"]


def credential(connection: ASGIConnection[Any, Any, Any, Any], allow_query: bool) -> Credential | None:
    """The key the request carries and where: X-API-Key or Bearer, then ?api_key= (streams), then the cookie."""
    token = connection.headers.get("x-api-key")
    if token:
        return Credential(token.strip(), "header")
    auth = connection.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return Credential(auth[7:].strip(), "header")
    if allow_query and (token := connection.query_params.get("api_key")):
        return Credential(token, "query")
    if token := connection.cookies.get(COOKIE):
        return Credential(token, "cookie")
    return None


async def resolve_principal(connection: ASGIConnection[Any, Any, Any, Any], allow_query: bool) -> Principal | None:
    ctx, keys = ctx_of(connection), key_service_of(connection)
    cred = credential(connection, allow_query)
    if cred is None:
        return ANONYMOUS_READ if ctx.settings.anonymous == "read" else None
    principal = await keys.authenticate(cred.token)
    if principal is None:
        _refuse_failed_attempt(connection, keys)
    if cred.source == "cookie":
        check_cookie_request(connection, ctx.settings.cors_origins)
    return principal


def _refuse_failed_attempt(connection: ASGIConnection[Any, Any, Any, Any], keys: KeyService) -> NoReturn:
    # Only failures are limited: the key was looked up first, so a good key always gets through.
    address = connection.client.host if connection.client else "unknown"
    retry_after = keys.failures.fail(address)
    if retry_after is not None:
        raise TooManyRequestsError(
            f"too many failed API-key attempts from {address}; retry in {retry_after} s", retry_after
        )
    raise AuthenticationError("the API key is unknown or revoked")


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
