"""API keys and the auth matrix basics over real HTTP + PostgreSQL."""

from __future__ import annotations

from tests.conftest import Api


async def test_health_is_public(api: Api) -> None:
    r = await api.get("/healthz", scope=None)
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_create_key_shows_token_once_and_it_works(api: Api) -> None:
    r = await api.post("/v1/api-keys", json={"appName": "gui", "scopes": ["write"]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["token"].startswith("sq_")
    assert body["scopes"] == ["read", "write"] and body["readAccess"] and body["writeAccess"]
    listed = (await api.get("/v1/api-keys")).json()
    assert all(k.get("token") is None for k in listed)
    assert "gui" in {k["appName"] for k in listed}
    r = await api.client.get("/v1/api-keys/count", headers={"X-API-Key": body["token"]})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_old_dialect_create_form(api: Api) -> None:
    r = await api.post("/v1/api-keys", json={"appName": "old", "readAccess": True, "writeAccess": False})
    assert r.status_code == 201 and r.json()["scopes"] == ["read"]


async def test_revoked_key_is_401(api: Api) -> None:
    created = (await api.post("/v1/api-keys", json={"appName": "tmp", "scopes": ["admin"]})).json()
    r = await api.delete(f"/v1/api-keys/{created['id']}")
    assert r.status_code == 200 and r.json()["isActive"] is False
    api.client.app.state.key_service._cache.clear()
    r = await api.client.get("/v1/api-keys", headers={"X-API-Key": created["token"]})
    assert r.status_code == 401


async def test_no_key_401_unknown_key_401(api: Api) -> None:
    assert (await api.get("/v1/api-keys", scope=None)).status_code == 401
    r = await api.client.get("/v1/api-keys", headers={"X-API-Key": "sq_nonsense_but_long_enough"})
    assert r.status_code == 401
    assert r.json()["status"] == 401 and "unknown" in r.json()["detail"]


async def test_key_bad_input(api: Api) -> None:
    r = await api.post("/v1/api-keys", json={"appName": "x", "scopes": ["root"]})
    assert r.status_code == 400 and "root" in r.json()["detail"]
    r = await api.post("/v1/api-keys", json={"appName": "   ", "scopes": ["read"]})
    assert r.status_code == 400
    r = await api.post("/v1/api-keys", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400
    r = await api.delete("/v1/api-keys/not-a-uuid")
    assert r.status_code == 404
    r = await api.post("/v1/api-keys", json={"appName": "test-read", "scopes": ["read"]})
    assert r.status_code == 409
    existing = {k["appName"]: k["id"] for k in (await api.get("/v1/api-keys")).json()}["test-read"]
    r = await api.post("/v1/api-keys", json={"appName": "TEST-READ", "scopes": ["read"]})  # case-insensitive
    assert r.status_code == 409 and r.json()["existingId"] == existing
    assert r.json()["detail"].startswith(f"an active API key named 'TEST-READ' already exists (key {existing})")
    assert "lower(" not in r.json()["detail"]


async def test_audit_records_key_changes(api: Api) -> None:
    await api.post("/v1/api-keys", json={"appName": "audited", "scopes": ["read"]})
    r = await api.get("/v1/audit?action=api_key.create")
    assert r.status_code == 200
    assert any("audited" in e["summary"] for e in r.json()["results"])
    assert (await api.get("/v1/audit", scope="write")).status_code == 403
    assert (await api.get("/v1/audit?limit=0")).status_code == 400
