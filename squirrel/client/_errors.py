"""What the client raises: one base class carrying the RFC 9457 problem's type, status and detail."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """The server answered with a problem (or not at all: `status` 0)."""

    def __init__(self, status: int, detail: str, type: str = "about:blank", title: str = "", **extra: Any) -> None:
        self.status = status
        self.detail = detail
        self.type = type
        self.title = title
        self.extra = extra  # further problem members, e.g. jobId of a running restore on 409
        super().__init__(f"{status} {title}: {detail}" if status else detail)

    @property
    def slug(self) -> str:
        """The last part of the problem type URI (`not-found`, `conflict`, ...)."""
        return self.type.rstrip("/").rsplit("/", 1)[-1]


class BadRequestError(ApiError):
    """400/413/415/422: the request was refused as invalid."""


class AuthError(ApiError):
    """401/403: no valid key, or the key lacks the scope."""


class NotFoundError(ApiError):
    """404: no such resource."""


class ConflictError(ApiError):
    """409: conflict with stored state (duplicate, a restore already running, a finished job)."""


class RateLimitedError(ApiError):
    """429: too many failed key attempts."""


class ServerError(ApiError):
    """5xx: the server or one of its dependencies failed (503: unavailable)."""


class ConnectError(ApiError):
    """No answer at all: the server is unreachable (status 0)."""

    def __init__(self, detail: str) -> None:
        super().__init__(0, detail, type="about:unreachable", title="Unreachable")


class ConfigurationError(Exception):
    """The client's own settings are wrong (bad key file, bad URL)."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    409: ConflictError,
    413: BadRequestError,
    415: BadRequestError,
    422: BadRequestError,
    429: RateLimitedError,
}


def error_for(status: int, body: Any, text: str) -> ApiError:
    """The exception for an error answer: the problem body's members when it is one, else the raw text."""
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        extra = {k: v for k, v in body.items() if k not in ("status", "detail", "type", "title")}
        return cls(status, body["detail"], str(body.get("type", "about:blank")), str(body.get("title", "")), **extra)
    return cls(status, text.strip()[:500] or f"HTTP {status}")
