"""Who calls and with what rights: API keys, scopes, the audit log. camelCase on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

Scope = Literal["read", "write", "restore", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "write", "restore", "admin")


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: the API key's name and its effective scopes (implications expanded)."""

    name: str
    scopes: frozenset[str]
    key_id: UUID | None = None

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


def expand_scopes(scopes: set[str] | frozenset[str] | list[str]) -> frozenset[str]:
    """write and restore imply read; admin implies everything."""
    out = set(scopes)
    if "admin" in out:
        out.update(SCOPES)
    if out & {"write", "restore"}:
        out.add("read")
    return frozenset(out)


class ApiKey(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    app_name: str
    scopes: list[str]
    read_access: bool
    write_access: bool
    is_active: bool
    created_at: datetime
    last_used_at: datetime | None = None
    token: str | None = None


class AuditEntry(msgspec.Struct, rename="camel", kw_only=True):
    id: int
    at: datetime
    actor: str
    action: str
    resource_type: str
    resource_id: str | None
    summary: str


class AuditPage(msgspec.Struct, rename="camel"):
    """One page of the audit log (GET /v1/audit)."""

    results: list[AuditEntry]
    total_count: int
    limit: int
    offset: int
