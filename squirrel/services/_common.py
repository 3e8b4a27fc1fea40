"""Small checks several services share: one lookup-or-404, one bounded text field."""

from __future__ import annotations

from typing import TypeVar

from squirrel.errors import NotFoundError, ValidationError

T = TypeVar("T")


def found(row: T | None, what: str) -> T:
    """`row`, or a 404 "<what> not found" when the lookup found nothing."""
    if row is None:
        raise NotFoundError(f"{what} not found")
    return row


def clean_text(value: str, limit: int, where: str, field: str) -> str:
    """`value` trimmed: not empty, at most `limit` characters, no NUL. The message names `where` + `field`
    (joined only on error: address checks run 150K times on a 50K multi-create)."""
    text = value.strip()
    if not text:
        raise ValidationError(f"{where}{field} must not be empty or whitespace")
    if len(text) > limit:
        raise ValidationError(f"{where}{field} must be at most {limit} characters, got {len(text)}")
    if "\x00" in text:
        raise ValidationError(f"{where}{field} must not contain NUL characters")
    return text
