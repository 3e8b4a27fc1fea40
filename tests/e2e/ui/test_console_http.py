"""The console's server side over HTTP (no browser): redirect of `/` for browsers, sign-in cookies,
pages that follow the key's scopes, sign-out, a revoked key ending the session, the shipped assets."""

from __future__ import annotations

from tests.conftest import Api

HTML = {"accept": "text/html,application/xhtml+xml"}


async def _sign_in(api: Api, scope: str) -> None:
    r = await api.client.post("/ui/signin", data={"key": api.tokens[scope]}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/"


async def test_root_redirects_browsers_and_answers_json_to_clients(api: Api) -> None:
    r = await api.client.get("/", headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/"
    r = await api.client.get("/")
    assert r.status_code == 200 and r.json()["api"] == "/v1"


async def test_pages_without_a_session_go_to_sign_in(api: Api) -> None:
    for path in ("/ui/", "/ui/snapshots", "/ui/pvs", "/ui/keys"):
        r = await api.client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/ui/signin", path
    r = await api.client.get("/ui/signin")
    assert r.status_code == 200 and 'name="key"' in r.text and '<label for="key">' in r.text


async def test_sign_in_sets_the_cookies_and_a_bad_key_is_refused(api: Api) -> None:
    r = await api.client.post("/ui/signin", data={"key": "sq_nope"}, follow_redirects=False)
    assert r.status_code == 401 and "unknown or revoked" in r.text
    r = await api.client.post("/ui/signin", data={"key": api.tokens["read"]}, follow_redirects=False)
    cookies = r.headers.get_list("set-cookie")
    key = next(c for c in cookies if c.startswith("squirrel_key="))
    csrf = next(c for c in cookies if c.startswith("squirrel_csrf="))
    assert "HttpOnly" in key and "samesite=strict" in key.lower() and "Path=/" in key and "Secure" not in key
    assert "HttpOnly" not in csrf and "samesite=strict" in csrf.lower()
    # Served over HTTPS (a proxy says so): the cookies are Secure.
    r = await api.client.post(
        "/ui/signin", data={"key": api.tokens["read"]}, headers={"x-forwarded-proto": "https"}, follow_redirects=False
    )
    assert all("Secure" in c for c in r.headers.get_list("set-cookie"))
    # A form posted from another site does not sign anyone in (login CSRF); our own origin does.
    r = await api.client.post(
        "/ui/signin",
        data={"key": api.tokens["read"]},
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 403 and "another site" in r.text and not r.headers.get_list("set-cookie")
    own = {"origin": "http://testserver.local"}
    r = await api.client.post("/ui/signin", data={"key": api.tokens["read"]}, headers=own, follow_redirects=False)
    assert r.status_code == 303


async def test_pages_follow_the_scopes(api: Api) -> None:
    snap = (await api.post("/v1/snapshots?async=false", json={"title": "s"})).json()
    await _sign_in(api, "read")
    page = await api.client.get(f"/ui/snapshots/{snap['id']}")
    assert page.status_code == 200 and "Restore…" not in page.text and "Take snapshot" not in page.text
    assert 'href="/ui/keys"' not in page.text
    assert (await api.client.get("/ui/keys")).status_code == 403
    assert (await api.client.get(f"/ui/snapshots/{snap['id']}/restore")).status_code == 403
    assert (await api.client.get("/ui/snapshots/not-a-uuid")).status_code == 404
    await _sign_in(api, "admin")
    page = await api.client.get(f"/ui/snapshots/{snap['id']}")
    assert "Restore…" in page.text and 'href="/ui/keys"' in page.text and "Mark golden" in page.text
    assert (await api.client.get("/ui/keys")).status_code == 200
    assert "Take snapshot" in (await api.client.get("/ui/snapshots")).text


async def test_cookie_session_calls_v1_with_csrf_and_sign_out_clears_it(api: Api) -> None:
    await _sign_in(api, "write")
    csrf = api.client.cookies["squirrel_csrf"]
    assert (await api.client.get("/v1/snapshots")).status_code == 200  # the cookie signs /v1 in
    body = {"setpointAddress": "UI:1"}
    assert (await api.client.post("/v1/pvs", json=body)).status_code == 403  # no CSRF header
    assert (await api.client.post("/v1/pvs", json=body, headers={"x-squirrel-csrf": csrf})).status_code == 201
    # Sign-out needs the CSRF value too (another site cannot sign the operator out).
    r = await api.client.post("/ui/signout", data={"csrf": "wrong"}, follow_redirects=False)
    assert r.headers["location"] == "/ui/" and api.client.cookies.get("squirrel_key")
    r = await api.client.post("/ui/signout", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/signin"
    assert not api.client.cookies.get("squirrel_key")
    assert (await api.client.get("/ui/", follow_redirects=False)).headers["location"] == "/ui/signin"


async def test_a_revoked_key_ends_the_session(api: Api) -> None:
    made = (await api.post("/v1/api-keys", json={"appName": "operator", "scopes": ["read"]})).json()
    r = await api.client.post("/ui/signin", data={"key": made["token"]}, follow_redirects=False)
    assert r.status_code == 303
    assert (await api.client.get("/ui/")).status_code == 200
    assert (await api.delete(f"/v1/api-keys/{made['id']}")).status_code == 200
    r = await api.client.get("/ui/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/signin"
    r = await api.client.get("/ui/signin")
    assert "session ended" in r.text


async def test_assets_ship_in_the_package_and_pages_use_nothing_else(api: Api) -> None:
    for name in ("common.js", "overview.js", "snapshot.js", "restore.js", "console.css"):
        r = await api.client.get(f"/ui/static/{name}")
        assert r.status_code == 200 and len(r.content) > 500, name
    await _sign_in(api, "admin")
    for path in ("/ui/", "/ui/snapshots", "/ui/compare", "/ui/pvs", "/ui/jobs", "/ui/audit", "/ui/keys", "/ui/health"):
        text = (await api.client.get(path)).text
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, path
