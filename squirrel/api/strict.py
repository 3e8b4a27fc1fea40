"""Strict request input: a request means exactly what it says, or it is refused with a 4xx.

Litestar ignores unknown query parameters, binds the *last* of a repeated one (while
`query_params.get` reads the first) and accepts `1`/`yes` as booleans. So a typo or a repeat could
silently run a different operation (`?dry_run=true`, `?dryRun=true&dryRun=false`). Before any guard
decides on a parameter, this check refuses what the handler does not declare, repeats of
single-valued parameters, booleans other than `true|false`, NUL bytes, and bodies of the wrong type.
The declared parameters are read from Litestar's own parameter model of each handler, so a handler's
signature is the single source of truth.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.exceptions import SerializationException
from litestar.handlers.base import BaseRouteHandler
from litestar.routes import HTTPRoute, WebSocketRoute

from squirrel.errors import AuthenticationError, UnsupportedMediaTypeError, ValidationError

# API.md §Conventions: exactly these parameters may repeat (and take comma lists).
MULTI_VALUED = frozenset({"pvs", "tags", "devices", "labels", "pv_names"})
KEY_PARAMETER = "api_key"  # the stream routes' key (EventSource cannot send headers)
BOOLEAN_VALUES = ("true", "false")
_JSON_ESCAPED_NUL = b"\\u0000"
MAX_JSON_DEPTH = 64  # API.md: deeper JSON is refused (our documents nest at most a few levels)


@dataclass(frozen=True, slots=True)
class QueryRules:
    """What one handler accepts in its query string."""

    names: frozenset[str]
    aliases: dict[str, str]  # Python name -> name on the wire, for error details
    booleans: frozenset[str]
    numbers: frozenset[str]  # `?limit=null` would bind None (no limit) rather than be refused
    multi: frozenset[str]
    json_body: bool


def _is_bool(handler: BaseRouteHandler, field_name: str) -> bool:
    parameter = handler.parsed_fn_signature.parameters.get(field_name)
    if parameter is None:
        return False
    definition = parameter
    return bool(definition.is_subclass_of(bool)) if hasattr(definition, "is_subclass_of") else False


def _is_number(handler: BaseRouteHandler, field_name: str) -> bool:
    parameter = handler.parsed_fn_signature.parameters.get(field_name)
    if parameter is None:
        return False
    kinds = (
        [t for t in parameter.inner_types if t.annotation is not type(None)] if parameter.is_optional else [parameter]
    )
    return bool(kinds) and all(t.is_subclass_of((int, float)) and not t.is_subclass_of(bool) for t in kinds)


def _rules_for(handler: BaseRouteHandler, kwargs_model: Any, accepts_key: bool) -> QueryRules:
    params = list(kwargs_model.expected_query_params)
    names = {p.field_alias for p in params}
    if accepts_key:
        names.add(KEY_PARAMETER)
    data = handler.parsed_fn_signature.parameters.get("data")
    json_body = (
        data is not None
        and "data" in kwargs_model.expected_reserved_kwargs
        and kwargs_model.expected_form_data is None
        and kwargs_model.expected_msgpack_data is None
    )
    return QueryRules(
        names=frozenset(names),
        aliases={p.field_name: p.field_alias for p in params},
        booleans=frozenset(p.field_alias for p in params if _is_bool(handler, p.field_name)),
        numbers=frozenset(p.field_alias for p in params if _is_number(handler, p.field_name)),
        multi=frozenset(p.field_alias for p in params if p.is_sequence) & MULTI_VALUED,
        json_body=json_body,
    )


def _key(handler: BaseRouteHandler) -> tuple[str, ...]:
    return (str(handler), *sorted(handler.paths))


def install(app: Litestar) -> None:
    """Read every handler's declared parameters once, when the app is built.

    Keyed by name and paths: guards receive a copy of the handler, so its identity differs per call."""
    table: dict[tuple[str, ...], QueryRules] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler, kwargs_model in route.route_handler_map.values():
                table[_key(handler)] = _rules_for(handler, kwargs_model, bool(handler.opt.get("query_key")))
        elif isinstance(route, WebSocketRoute) and route.handler_parameter_model is not None:
            ws_handler = route.route_handler
            table[_key(ws_handler)] = _rules_for(ws_handler, route.handler_parameter_model, True)
    app.state.query_rules = table


def wire_name(connection: ASGIConnection[Any, Any, Any, Any], name: str) -> str:
    """The query name a client sent for a handler's parameter (`page_size` -> `pageSize`)."""
    handler = connection.scope.get("route_handler")
    rules = connection.app.state.query_rules.get(_key(handler)) if handler is not None else None
    return rules.aliases.get(name, name) if rules is not None else name


def _suggest(name: str, known: frozenset[str]) -> str:
    lowered = {k.lower().replace("_", ""): k for k in known}
    folded = name.lower().replace("_", "")
    close = [lowered[folded]] if folded in lowered else difflib.get_close_matches(name, sorted(known), n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    if known:
        return f"; this operation takes {', '.join(sorted(known))}"
    return "; this operation takes no query parameters"


def check_query(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    rules: QueryRules | None = connection.app.state.query_rules.get(_key(handler))
    if rules is None:  # routes Litestar serves itself (OpenAPI pages)
        return
    seen: dict[str, int] = {}
    for name, value in connection.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise ValidationError(f"query parameter {name.replace(chr(0), '')!r} contains a NUL byte")
        if name == KEY_PARAMETER and name not in rules.names:
            # A key in the query authenticates streams only; elsewhere it is a credential we refuse.
            raise AuthenticationError(
                "?api_key= is accepted only on streams (SSE, WebSocket): send the key in the X-API-Key header"
            )
        if name not in rules.names:
            raise ValidationError(f"unknown query parameter {name!r}{_suggest(name, rules.names)}")
        seen[name] = seen.get(name, 0) + 1
        if seen[name] == 2 and name not in rules.multi:
            raise ValidationError(f"query parameter {name!r} was given more than once; it takes one value")
        if name in rules.booleans and value not in BOOLEAN_VALUES:
            raise ValidationError(f"query parameter {name!r} must be true or false, got {value[:40]!r}")
        if name in rules.numbers and value.strip().lower() == "null":
            raise ValidationError(f"query parameter {name!r} must be a number, got {value[:40]!r}")


def _json_content_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _nul_path(node: Any, path: str) -> str | None:
    """Where in a decoded JSON document a text holds a NUL ("$.title", "$[3].setpointAddress")."""
    if isinstance(node, str):
        return path if "\x00" in node else None
    if isinstance(node, dict):
        for key, value in node.items():
            if "\x00" in key:
                return f"{path} (a member name)"
            found = _nul_path(value, f"{path}.{key}")
            if found:
                return found
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found = _nul_path(value, f"{path}[{i}]")
            if found:
                return found
    return None


def _depth_exceeds(node: Any, limit: int) -> bool:
    """True when containers nest deeper than `limit` levels, `node` (a container) being the first level
    (stops at the first such branch)."""
    if limit < 1:
        return True
    if isinstance(node, dict):
        return any(isinstance(v, dict | list) and _depth_exceeds(v, limit - 1) for v in node.values())
    if isinstance(node, list):
        return any(isinstance(v, dict | list) and _depth_exceeds(v, limit - 1) for v in node)
    return False


async def check_body(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """JSON routes take application/json nested at most 64 deep; no body may carry a NUL byte.

    The JSON is decoded here through `Request.json()`, which caches it: the handler's own binding
    reuses the document, so the checks cost one walk, not a second decode."""
    rules: QueryRules | None = connection.app.state.query_rules.get(_key(handler))
    scope: Any = connection.scope
    if rules is None or scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
        return
    request: Any = connection
    body: bytes = await request.body()
    if not body:
        return
    content_type = connection.headers.get("content-type", "")
    if rules.json_body and not _json_content_type(content_type):
        shown = content_type.split(";", 1)[0].strip() or "none"
        raise UnsupportedMediaTypeError(f"send the body as application/json (Content-Type was {shown})")
    if b"\x00" in body:
        raise ValidationError(
            "the request body contains a NUL byte; PostgreSQL cannot store it (a UTF-16 file? send UTF-8)"
        )
    if not rules.json_body:
        return
    try:
        document = await request.json()
    except RecursionError:
        raise ValidationError(f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except SerializationException:
        return  # malformed JSON: the handler's binding reports it with its position
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _depth_exceeds(document, MAX_JSON_DEPTH):
        raise ValidationError(f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep")
    if _JSON_ESCAPED_NUL in body:
        where = _nul_path(document, "$")
        if where:
            raise ValidationError(f"{where}: text must not contain a NUL character (\\u0000)")


__all__ = ["MULTI_VALUED", "QueryRules", "check_body", "check_query", "install", "wire_name"]
