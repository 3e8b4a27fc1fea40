"""Assertions on RFC 9457 problem answers, shared by the bad-input tests."""

from __future__ import annotations

from typing import Any


def problem(r: Any, status: int, *needles: str) -> dict[str, Any]:
    """Assert `r` is a problem+json answer with `status` whose detail contains every needle (any case)."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    for needle in needles:
        assert needle.lower() in body["detail"].lower(), body["detail"]
    return body
