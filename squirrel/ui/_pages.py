"""The console's pages. Each renders a skeleton that follows the key's scopes (no Restore button
without `restore`, no keys page without `admin`); its JavaScript fills it from /v1."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from squirrel.api.auth import ANONYMOUS_READ, COOKIE
from squirrel.api.common import path_uuid
from squirrel.api.deps import ctx_of
from squirrel.model import Principal
from squirrel.ui._session import PUBLIC, principal_from_cookie

NAV = [
    ("overview", "/ui/", "Overview", "read"),
    ("snapshots", "/ui/snapshots", "Snapshots", "read"),
    ("compare", "/ui/compare", "Compare", "read"),
    ("pvs", "/ui/pvs", "PV registry", "read"),
    ("jobs", "/ui/jobs", "Jobs", "read"),
    ("audit", "/ui/audit", "Audit log", "admin"),
    ("keys", "/ui/keys", "API keys", "admin"),
    ("health", "/ui/health", "Health", "read"),
]


async def _principal(request: Request[Any, Any, Any]) -> Principal | None:
    principal = await principal_from_cookie(request)
    if principal is None and request.cookies.get(COOKIE) is None and ctx_of(request).settings.anonymous == "read":
        return ANONYMOUS_READ
    return principal


async def render(request: Request[Any, Any, Any], page: str, scope: str = "read", **extra: Any) -> Template | Redirect:
    """The page for a signed-in key that holds `scope`; otherwise the sign-in page (or a 403 page)."""
    principal = await _principal(request)
    if principal is None:
        return Redirect("/ui/signin", status_code=303)
    allowed = principal.allows(scope)
    context = {
        "page": page if allowed else "forbidden",
        "needed": scope,
        "principal": principal,
        "can": {s: principal.allows(s) for s in ("read", "write", "restore", "admin")},
        "nav": [(key, href, label) for key, href, label, need in NAV if principal.allows(need)],
        "current": page,
        "envelope": ctx_of(request).settings.api_envelope,
        "signed_in": principal is not ANONYMOUS_READ,
        "csrf": request.cookies.get("squirrel_csrf", ""),
        **extra,
    }
    return Template(f"{context['page']}.html", context=context, status_code=200 if allowed else 403)


class ConsoleController(Controller):
    path = "/ui"
    include_in_schema = False
    opt = PUBLIC  # pages check the cookie themselves: a missing or revoked key redirects to sign-in

    @get("/")
    async def overview(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        return await render(request, "overview")

    @get("/snapshots")
    async def snapshots(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        return await render(request, "snapshots")

    @get("/snapshots/{snapshot_id:str}")
    async def snapshot(self, request: Request[Any, Any, Any], snapshot_id: FromPath[str]) -> Template | Redirect:
        return await render(request, "snapshot", snapshot_id=str(path_uuid(snapshot_id, "snapshot")))

    @get("/snapshots/{snapshot_id:str}/restore")
    async def restore(self, request: Request[Any, Any, Any], snapshot_id: FromPath[str]) -> Template | Redirect:
        return await render(request, "restore", "restore", snapshot_id=str(path_uuid(snapshot_id, "snapshot")))

    @get("/compare")
    async def compare(
        self,
        request: Request[Any, Any, Any],
        first: Annotated[str | None, QueryParameter(name="a", description="first snapshot id")] = None,
        second: Annotated[str | None, QueryParameter(name="b", description="second snapshot id, or live")] = None,
    ) -> Template | Redirect:
        # The page's JavaScript reads a and b from its own URL; they are declared for the strict query check.
        return await render(request, "compare")

    @get("/pvs")
    async def pvs(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        return await render(request, "pvs")

    @get("/jobs")
    async def jobs(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        return await render(request, "jobs")

    @get("/audit")
    async def audit(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        return await render(request, "audit", "admin")

    @get("/keys")
    async def keys(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        return await render(request, "keys", "admin")

    @get("/health")
    async def health(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        return await render(request, "health")
