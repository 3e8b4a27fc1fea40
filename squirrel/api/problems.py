"""Every error leaves as an RFC 9457 application/problem+json response."""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException

from squirrel.api.strict import wire_name
from squirrel.errors import (
    PROBLEM_TYPE_BASE,
    NotFoundError,
    SquirrelError,
    UnavailableError,
    ValidationError,
    error_for_status,
)

log = structlog.get_logger(__name__)
PROBLEM_JSON = "application/problem+json"


def _response(body: dict[str, Any]) -> Response[bytes]:
    return Response(content=msgspec.json.encode(body), status_code=body["status"], media_type=PROBLEM_JSON)


def problem_response(exc: SquirrelError) -> Response[bytes]:
    """The error's RFC 9457 body (its class gives type, title and status) with its headers."""
    response = _response(exc.problem())
    response.headers.update(exc.headers)
    return response


def _http_problem(status: int, detail: str) -> Response[bytes]:
    """A framework error: the body of our class for its status, or a generic type when none has it."""
    cls = error_for_status(status)
    if cls is not None:
        return _response(cls.problem_body(detail))
    return _response({"type": f"{PROBLEM_TYPE_BASE}error", "title": "Error", "status": status, "detail": detail})


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
    return problem_response(exc)


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    if isinstance(exc, ValidationException):
        detail, errors = _validation_detail(request, exc)
        return _response(ValidationError.problem_body(detail, errors=errors))
    if isinstance(exc, NotFoundException):
        return _response(NotFoundError.problem_body(exc.detail if exc.detail != "Not Found" else "no such resource"))
    status = exc.status_code
    if status >= 500:
        log.error("request failed", error=exc.detail)
    return _http_problem(status, str(exc.detail))


def timeout_handler(request: Request[Any, Any, Any], exc: TimeoutError) -> Response[bytes]:
    return squirrel_error_handler(request, UnavailableError("a dependency did not answer in time"))


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("unhandled error", path=request.url.path, method=request.method)
    return problem_response(SquirrelError("internal error; see the server log"))


EXCEPTION_HANDLERS: dict[Any, Any] = {
    SquirrelError: squirrel_error_handler,
    HTTPException: http_exception_handler,
    TimeoutError: timeout_handler,
    Exception: internal_error_handler,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType", "problem_response"]
