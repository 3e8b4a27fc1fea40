"""Operations on keys, audit and health (/v1/api-keys, /v1/audit, /v1/health, /healthz, /readyz)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from squirrel.client._calls import Call, Id, as_json, json_call, operation, query, seg
from squirrel.model import ApiKey

if TYPE_CHECKING:
    from squirrel.model import AuditPage

_Body = dict[str, Any]


def _health_body(body: bytes) -> _Body:
    return as_json(dict[str, Any])(body)


class AdminRoutes:
    # --- API keys (admin) ---
    @operation
    def list_keys(self, include_inactive: bool | None = None) -> Call[list[ApiKey]]:
        return Call("GET", "/v1/api-keys", as_json(list[ApiKey]), query(includeInactive=include_inactive))

    @operation
    def count_keys(self) -> Call[dict[str, int]]:
        return Call("GET", "/v1/api-keys/count", as_json(dict[str, int]))

    @operation
    def create_key(self, app_name: str, scopes: list[str]) -> Call[ApiKey]:
        """The answer carries the token; it is shown only once."""
        return json_call("POST", "/v1/api-keys", as_json(ApiKey), {"appName": app_name, "scopes": scopes})

    @operation
    def revoke_key(self, key_id: Id) -> Call[ApiKey]:
        return Call("DELETE", f"/v1/api-keys/{seg(key_id)}", as_json(ApiKey))

    # --- audit (admin) ---
    @operation
    def audit(
        self,
        since: datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Call[AuditPage]:
        from squirrel.model import AuditPage

        stamp = since.isoformat() if since else None
        params = query(since=stamp, actor=actor, action=action, limit=limit, offset=offset)
        return Call("GET", "/v1/audit", as_json(AuditPage), params)

    # --- health ---
    @operation
    def health(self, part: str = "summary") -> Call[_Body]:
        """/v1/health/<part>: heartbeat, summary, monitor, disconnected, stale or circuits."""
        return Call("GET", f"/v1/health/{seg(part)}", _health_body)

    @operation
    def set_circuit(self, name: str, state: str) -> Call[_Body]:
        """Force an IOC circuit `open` or `close` it again (admin)."""
        return Call("POST", f"/v1/health/circuits/{seg(name)}/{seg(state)}", _health_body)

    @operation
    def readyz(self) -> Call[_Body]:
        """Readiness of the database, monitor and worker (a 503 raises ServerError)."""
        return Call("GET", "/readyz", _health_body)
