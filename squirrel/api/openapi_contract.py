"""The published contract is the real one: the generated OpenAPI document, completed from the routes.

Litestar documents errors as its own `{status_code, detail, extra}`, knows nothing of our guards
and strict-input checks, and cannot tell what a handler that returns bytes sends. This pass runs
once on the generated document (in place, before it is first served) and, for every operation:

- documents the RFC 9457 problem (`application/problem+json`, component `Problem`) for each error the
  operation can really give, derived from the route: 400 always (strict query parameters), 401/403/429
  and 503 unless it is public, 404 when the path names a resource, 409 on writes (unique and foreign
  keys, state conflicts), 413/415 when it takes a body; a handler adds more with `opt={"errors": [...]}`;
- adds the media types a handler declares in `opt={"extra_media": {type: schema}}` beside its success
  schema, and a raw request body from `opt={"request_body": {...}}` (routes that read the body
  themselves, such as the CSV/JSON imports);
- sets `additionalProperties: false` on request-body objects whose Struct forbids unknown fields;
- adds links from each create to the operations on what it created (squirrel.api.openapi_links).
"""

from __future__ import annotations

import typing
from typing import Any

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from squirrel.api.openapi_links import add_links

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "An RFC 9457 problem. Extra members where useful: `errors` (field errors of a 400), "
    "`jobId` (the running restore of a 409), `existingId` (the snapshot an import duplicates), `retryAfter`.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "https://squirrel.dev/problems/<slug>"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "what was wrong, naming the parameter or field"},
    },
}
ERROR_TEXT: dict[int, str] = {
    400: "Invalid input: a parameter or body field that is malformed, out of range, unknown or given twice "
    "(the detail names it)",
    401: "No API key, or an unknown or revoked one",
    403: "The key lacks the scope this operation needs (or a cookie-signed write lacks X-Squirrel-CSRF)",
    404: "No such resource (a malformed id in the path too)",
    409: "Conflicts with stored state (a duplicate address or name, a restore already running, ...)",
    413: "The body is larger than this operation takes (1 MB; 64 MB on the bulk imports)",
    415: "The body has a media type this operation does not take",
    429: "Too many failed API-key attempts from this address; retry after Retry-After seconds",
    503: "A dependency (the database, the job queue) is unavailable; retry later",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def documented_scope(handler: HTTPRouteHandler, method: str) -> str:
    """The scope the guard asks for (squirrel.api.auth.required_scope, without the request)."""
    scope = handler.opt.get("scope")
    if scope:
        return str(scope)
    return "read" if method in ("GET", "HEAD", "OPTIONS") else "write"


def error_statuses(handler: HTTPRouteHandler, method: str, path: str, has_body: bool) -> set[int]:
    """The error statuses one operation can give, from what the route is."""
    statuses = {400}
    if documented_scope(handler, method) != "public":
        statuses |= {401, 403, 429, 503}
        if method in _WRITE_METHODS:
            statuses.add(409)
    if "{" in path:
        statuses.add(404)
    if has_body:
        statuses |= {413, 415}
    statuses.update(int(s) for s in handler.opt.get("errors", ()))
    return statuses


def _problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {"description": ERROR_TEXT[status], "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}
    if status == 429:
        response["headers"] = dict(RETRY_AFTER)
    return response


def _structs_in(annotation: Any, seen: set[type[msgspec.Struct]]) -> None:
    """Every msgspec Struct an annotation reaches (unions, containers, Annotated, nested fields)."""
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        if annotation in seen:
            return
        seen.add(annotation)
        for hint in typing.get_type_hints(annotation).values():
            _structs_in(hint, seen)
        return
    for arg in typing.get_args(annotation):
        _structs_in(arg, seen)


def _closed_bodies(handler: HTTPRouteHandler, schemas: dict[str, Any]) -> None:
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return
    structs: set[type[msgspec.Struct]] = set()
    _structs_in(data.annotation, structs)
    for struct in structs:
        schema = schemas.get(struct.__name__)
        if schema is not None and struct.__struct_config__.forbid_unknown_fields:
            schema["additionalProperties"] = False


def plain_parameter_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without Litestar's `null` branch: a parameter is text or absent, never JSON null
    (`?limit=null` is not an integer), and `required: false` already says it may be left out."""
    for key in ("oneOf", "anyOf"):
        branches = schema.get(key)
        if not isinstance(branches, list):
            continue
        kept = [b for b in branches if b != {"type": "null"}]
        if len(kept) == len(branches):
            continue
        rest = {k: v for k, v in schema.items() if k != key}
        return {**kept[0], **rest} if len(kept) == 1 else {**rest, key: kept}  # the outer keys (bounds, extra) win
    return schema


_BOUNDS = (("ge", "minimum"), ("gt", "exclusiveMinimum"), ("le", "maximum"), ("lt", "exclusiveMaximum"))


def _declared_bounds(handler: HTTPRouteHandler) -> dict[str, dict[str, float]]:
    """Each parameter's ge/gt/le/lt by its name on the wire. Litestar leaves a bound of 0 out of the schema
    (it tests the value for truth), so `absTolerance >= 0` would be refused while documented as any number."""
    bounds: dict[str, dict[str, float]] = {}
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        if kwarg is None:
            continue
        wire = getattr(kwarg, "name", None) or getattr(kwarg, "query", None) or name
        found = {key: getattr(kwarg, attr) for attr, key in _BOUNDS if getattr(kwarg, attr, None) is not None}
        if found:
            bounds[wire] = found
    return bounds


def _complete_operation(handler: HTTPRouteHandler, method: str, path: str, operation: dict[str, Any]) -> None:
    bounds = _declared_bounds(handler)
    for parameter in operation.get("parameters", []):
        if isinstance(parameter.get("schema"), dict):
            parameter["schema"] = {**plain_parameter_schema(parameter["schema"]), **bounds.get(parameter["name"], {})}
    if "request_body" in handler.opt:
        operation["requestBody"] = handler.opt["request_body"]
    responses: dict[str, Any] = operation.setdefault("responses", {})
    declared = {str(code) for code in (handler.responses or {})}
    for code in [c for c in responses if c.startswith(("4", "5")) and c not in declared]:
        del responses[code]  # Litestar's own {status_code, detail, extra}: never sent
    for status in sorted(error_statuses(handler, method, path, "requestBody" in operation)):
        if str(status) not in declared:
            responses[str(status)] = _problem_response(status)
    extra_media: dict[str, Any] = handler.opt.get("extra_media", {})
    if extra_media:
        success = str(handler.status_code)
        content = responses.setdefault(success, {"description": "OK"}).setdefault("content", {})
        for media, schema in extra_media.items():
            content[media] = {"schema": schema}


def complete_schema(app: Litestar, document: dict[str, Any]) -> dict[str, Any]:
    """Complete the generated document in place (see the module doc); idempotent."""
    components = document.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    if "Problem" in schemas:
        return document
    schemas["Problem"] = PROBLEM_SCHEMA
    paths: dict[str, Any] = document.get("paths", {})
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in paths:
            continue
        item = paths[route.path_format]
        for handler in route.route_handlers:
            _closed_bodies(handler, schemas)
            for method in handler.http_methods:
                operation = item.get(method.lower())
                if operation is not None:
                    _complete_operation(handler, method, route.path_format, operation)
    add_links(document)
    return document


__all__ = [
    "PROBLEM_JSON",
    "PROBLEM_SCHEMA",
    "complete_schema",
    "documented_scope",
    "error_statuses",
    "plain_parameter_schema",
]
