"""squirrel.client._routes_admin: keys, audit and health requests, built without I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec

from tests.unit.client.recorder import Recorder

K = UUID(int=9)


def test_key_requests() -> None:
    c = Recorder()
    assert (c.list_keys().path, c.list_keys().params) == ("/v1/api-keys", ())
    assert c.list_keys(include_inactive=False).params == (("includeInactive", "false"),)
    assert (c.count_keys().method, c.count_keys().path) == ("GET", "/v1/api-keys/count")
    created = c.create_key("app", ["read", "write"])
    assert (created.method, created.path) == ("POST", "/v1/api-keys")
    assert msgspec.json.decode(created.content) == {"appName": "app", "scopes": ["read", "write"]}
    revoked = c.revoke_key(K)
    assert (revoked.method, revoked.path) == ("DELETE", f"/v1/api-keys/{K}")


def test_audit_sends_since_as_iso_8601() -> None:
    c = Recorder()
    assert c.audit().params == ()
    since = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    call = c.audit(since=since, actor="me", action="pv.create", limit=10, offset=20)
    assert (call.method, call.path) == ("GET", "/v1/audit")
    assert call.params == (
        ("since", "2026-01-31T12:00:00+00:00"), ("actor", "me"), ("action", "pv.create"),
        ("limit", "10"), ("offset", "20"),
    )  # fmt: skip


def test_health_requests() -> None:
    c = Recorder()
    assert c.health().path == "/v1/health/summary"
    assert c.health("circuits").path == "/v1/health/circuits"
    circuit = c.set_circuit("epics/ca", "open")
    assert (circuit.method, circuit.path) == ("POST", "/v1/health/circuits/epics%2Fca/open")
    assert c.readyz().path == "/readyz"
    assert c.readyz().answer(200, b'{"status": "ready", "checks": {}}') == {"status": "ready", "checks": {}}
