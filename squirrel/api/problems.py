"""Every error leaves as an RFC 9457 application/problem+json response."""

from __future__ import annotations

from typing import Any

import msgspec
import psycopg
import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from squirrel.api.strict import wire_name
from squirrel.db.pool import translate
from squirrel.errors import SquirrelError, UnavailableError

log = structlog.get_logger(__name__)
PROBLEM_JSON = "application/problem+json"
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
_SLUGS = {
    400: "validation-error",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "too-many-requests",
    500: "internal-error",
    503: "unavailable",
}


def problem(
    status: int, detail: str, slug: str | None = None, title: str | None = None, **extra: Any
) -> Response[bytes]:
    body: dict[str, Any] = {
        "type": f"https://squirrel.dev/problems/{slug or _SLUGS.get(status, 'error')}",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(content=msgspec.json.encode(body), status_code=status, media_type=PROBLEM_JSON)


def _validation_detail(
    request: Request[Any, Any, Any], exc: ValidationException
) -> tuple[str, list[dict[str, Any]] | None]:
    errors = exc.extra if isinstance(exc.extra, list) else None
    if not errors:
        own = str(exc.detail)
        return ("invalid request" if own.startswith("Validation failed for") else own), None
    parts = []
    for err in errors:
        if isinstance(err, dict):
            if err.get("source") == "query" and isinstance(err.get("key"), str):
                err["key"] = wire_name(request, err["key"])
            where = err.get("key") or err.get("source") or ""
            parts.append(f"{where}: {err.get('message', '')}".strip(": "))
    # Litestar's own detail ("Validation failed for GET /path?query") would echo the query string,
    # which may carry ?api_key=: the detail is built from the errors alone.
    own = str(exc.detail or "")
    echoes_url = own.startswith("Validation failed for")
    detail = "; ".join(p for p in parts if p) or ("invalid request" if echoes_url else own)
    if own and not echoes_url and own not in ("Validation failed", "Bad Request") and own not in detail:
        detail = f"{own}: {detail}"
    return detail, errors


def squirrel_error_handler(_: Request[Any, Any, Any], exc: SquirrelError) -> Response[bytes]:
    if exc.status >= 500:
        log.error("request failed", error=exc.detail, error_type=type(exc).__name__)
    response = problem(exc.status, exc.detail, exc.type_slug, exc.title, **exc.extra)
    response.headers.update(exc.headers)
    return response


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    if isinstance(exc, ValidationException):
        detail, errors = _validation_detail(request, exc)
        return problem(400, detail, errors=errors)
    if isinstance(exc, NotFoundException):
        return problem(404, exc.detail if exc.detail != "Not Found" else "no such resource")
    status = exc.status_code
    if status >= 500:
        log.error("request failed", error=exc.detail)
    return problem(status, str(exc.detail))


def psycopg_error_handler(request: Request[Any, Any, Any], exc: psycopg.Error) -> Response[bytes]:
    translated = translate(exc)
    if isinstance(translated, SquirrelError):
        return squirrel_error_handler(request, translated)
    return internal_error_handler(request, exc)


def timeout_handler(request: Request[Any, Any, Any], exc: TimeoutError) -> Response[bytes]:
    return squirrel_error_handler(request, UnavailableError("a dependency did not answer in time"))


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("unhandled error", path=request.url.path, method=request.method)
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, "internal error; see the server log")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    SquirrelError: squirrel_error_handler,
    HTTPException: http_exception_handler,
    psycopg.Error: psycopg_error_handler,
    TimeoutError: timeout_handler,
    Exception: internal_error_handler,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType", "problem"]
