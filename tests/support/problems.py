"""The RFC 9457 problem check the input-validation tests share."""

from __future__ import annotations

from typing import Any


def problem(r: Any, status: int, *needles: str) -> dict[str, Any]:
    """The problem body of `r`, after checking its status, media type and that its detail names each needle."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    for needle in needles:
        assert needle.lower() in body["detail"].lower(), body["detail"]
    return body
