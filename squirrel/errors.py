"""One exception tree for the whole service; the API renders each as an RFC 9457 problem.

Each class carries its HTTP status, its problem type slug and its title: the problem body is built
from them (`SquirrelError.problem`), so no other table restates them.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

PROBLEM_TYPE_BASE = "https://squirrel.dev/problems/"


class SquirrelError(Exception):
    """Internal error."""

    status: ClassVar[int] = 500
    type_slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal Server Error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or (self.__doc__ or self.title).strip()
        self.extra = extra
        self.headers: dict[str, str] = {}  # HTTP headers the problem response carries (Retry-After)
        super().__init__(self.detail)

    @classmethod
    def type_uri(cls) -> str:
        return PROBLEM_TYPE_BASE + cls.type_slug

    @classmethod
    def problem_body(cls, detail: str, **extra: Any) -> dict[str, Any]:
        """The RFC 9457 body of this class: type, title, status, detail, then the extra members set."""
        body: dict[str, Any] = {"type": cls.type_uri(), "title": cls.title, "status": cls.status, "detail": detail}
        body.update({k: v for k, v in extra.items() if v is not None})
        return body

    def problem(self) -> dict[str, Any]:
        return self.problem_body(self.detail, **self.extra)


class ConfigError(SquirrelError):
    """The configuration is invalid."""

    type_slug = "config-error"
    title = "Configuration Error"


class ValidationError(SquirrelError):
    """The request is invalid."""

    status = 400
    type_slug = "validation-error"
    title = "Bad Request"


class AuthenticationError(SquirrelError):
    """A valid API key is required (X-API-Key header)."""

    status = 401
    type_slug = "unauthenticated"
    title = "Unauthorized"


class PermissionDeniedError(SquirrelError):
    """The API key lacks the scope this operation needs."""

    status = 403
    type_slug = "forbidden"
    title = "Forbidden"


class NotFoundError(SquirrelError):
    """The resource does not exist."""

    status = 404
    type_slug = "not-found"
    title = "Not Found"


class MethodNotAllowedError(SquirrelError):
    """The resource does not take this HTTP method."""

    status = 405
    type_slug = "method-not-allowed"
    title = "Method Not Allowed"


class ConflictError(SquirrelError):
    """The request conflicts with stored state."""

    status = 409
    type_slug = "conflict"
    title = "Conflict"


class PayloadTooLargeError(SquirrelError):
    """The request body is too large."""

    status = 413
    type_slug = "payload-too-large"
    title = "Payload Too Large"


class UnsupportedMediaTypeError(SquirrelError):
    """The request body has a content type this operation does not take."""

    status = 415
    type_slug = "unsupported-media-type"
    title = "Unsupported Media Type"


class UnprocessableContentError(ValidationError):
    """The request is well-formed but cannot be processed."""

    status = 422
    title = "Unprocessable Content"


class TooManyRequestsError(SquirrelError):
    """Too many failed attempts from this client; retry later."""

    status = 429
    type_slug = "too-many-requests"
    title = "Too Many Requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retryAfter=retry_after)
        self.headers["Retry-After"] = str(retry_after)


class UnavailableError(SquirrelError):
    """A dependency is unavailable; retry later."""

    status = 503
    type_slug = "unavailable"
    title = "Service Unavailable"


class EpicsError(SquirrelError):
    """A Channel Access operation failed."""

    status = 502
    type_slug = "epics-error"
    title = "Bad Gateway"


def error_for_status(status: int) -> type[SquirrelError] | None:
    """The most general class of the tree answering with `status` (ValidationError for 400, the root
    for 500), or None when no class does; for errors raised outside the tree (the web framework's)."""
    todo: deque[type[SquirrelError]] = deque([SquirrelError])
    while todo:
        cls = todo.popleft()
        if cls.status == status:
            return cls
        todo.extend(cls.__subclasses__())
    return None
