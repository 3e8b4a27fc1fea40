"""Each class of the error tree carries its problem: status, type slug and title, read by the renderer."""

from __future__ import annotations

import pytest

from squirrel import errors
from squirrel.errors import PROBLEM_TYPE_BASE, SquirrelError, error_for_status

# The problem each class renders (the contract API.md documents; clients match on the type slug).
EXPECTED = {
    errors.SquirrelError: (500, "internal-error", "Internal Server Error"),
    errors.ConfigError: (500, "config-error", "Configuration Error"),
    errors.ValidationError: (400, "validation-error", "Bad Request"),
    errors.AuthenticationError: (401, "unauthenticated", "Unauthorized"),
    errors.PermissionDeniedError: (403, "forbidden", "Forbidden"),
    errors.NotFoundError: (404, "not-found", "Not Found"),
    errors.MethodNotAllowedError: (405, "method-not-allowed", "Method Not Allowed"),
    errors.ConflictError: (409, "conflict", "Conflict"),
    errors.PayloadTooLargeError: (413, "payload-too-large", "Payload Too Large"),
    errors.UnsupportedMediaTypeError: (415, "unsupported-media-type", "Unsupported Media Type"),
    errors.UnprocessableContentError: (422, "validation-error", "Unprocessable Content"),
    errors.TooManyRequestsError: (429, "too-many-requests", "Too Many Requests"),
    errors.UnavailableError: (503, "unavailable", "Service Unavailable"),
    errors.EpicsError: (502, "epics-error", "Bad Gateway"),
}


def _all_classes() -> set[type[SquirrelError]]:
    found: set[type[SquirrelError]] = set()
    todo: list[type[SquirrelError]] = [SquirrelError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return {c for c in found if c.__module__ == "squirrel.errors"}


def make(cls: type[SquirrelError], detail: str) -> SquirrelError:
    if cls is errors.TooManyRequestsError:
        return errors.TooManyRequestsError(detail, retry_after=7)
    return cls(detail)


def test_every_class_is_covered() -> None:
    assert _all_classes() == set(EXPECTED)


@pytest.mark.parametrize("cls", list(EXPECTED), ids=lambda c: c.__name__)
def test_problem_body_of_each_class(cls: type[SquirrelError]) -> None:
    status, slug, title = EXPECTED[cls]
    body = make(cls, "what went wrong").problem()
    assert body["type"] == f"{PROBLEM_TYPE_BASE}{slug}"
    assert (body["status"], body["title"], body["detail"]) == (status, title, "what went wrong")


def test_extra_members_follow_and_none_is_left_out() -> None:
    body = errors.ConflictError("busy", jobId="j1", other=None).problem()
    assert list(body) == ["type", "title", "status", "detail", "jobId"]


def test_too_many_requests_carries_retry_after() -> None:
    err = errors.TooManyRequestsError("slow down", retry_after=30)
    assert err.headers == {"Retry-After": "30"}
    assert err.problem()["retryAfter"] == 30


def test_default_detail_is_the_docstring() -> None:
    assert errors.NotFoundError().detail == "The resource does not exist."


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.ValidationError),
        (404, errors.NotFoundError),
        (405, errors.MethodNotAllowedError),
        (422, errors.UnprocessableContentError),
        (500, errors.SquirrelError),  # the root, not ConfigError
        (503, errors.UnavailableError),
        (418, None),
    ],
)
def test_error_for_status_is_the_most_general_class(status: int, cls: type[SquirrelError] | None) -> None:
    assert error_for_status(status) is cls
