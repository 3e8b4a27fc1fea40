"""The API documentation: Swagger UI at /schema (and /schema/swagger), ReDoc at /schema/redoc, both from
the assets of installed packages (never a CDN: control-room networks are offline), and the X-API-Key
security scheme with each operation's scope, so Swagger's Authorize button works.
"""

from __future__ import annotations

from typing import Any

import openapi_ui_bundles.redoc
import swagger_ui_bundle
from litestar import Litestar, Request
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, RedocRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.router import Router
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router

from squirrel.api.openapi_contract import complete_schema, documented_scope

SCHEMA_PATH = "/schema"
SWAGGER_ASSETS = f"{SCHEMA_PATH}/static/swagger-ui"
REDOC_ASSETS = f"{SCHEMA_PATH}/static/redoc"
SECURITY_SCHEME = "ApiKey"
_FAVICON = f"<link rel='icon' type='image/png' href='{SWAGGER_ASSETS}/favicon-32x32.png'>"
_SCOPE_NOTE = "**Scope:**"


def asset_routers() -> list[Router]:
    """The UI assets, served from the installed packages' folders (public, like all of /schema)."""
    return [
        create_static_files_router(
            SWAGGER_ASSETS, [swagger_ui_bundle.swagger_ui_path], name="swagger-ui-assets", opt={"scope": "public"}
        ),
        create_static_files_router(
            REDOC_ASSETS, [openapi_ui_bundles.redoc.static_path], name="redoc-assets", opt={"scope": "public"}
        ),
    ]


# Every page that shows the document completes it first (once: the document is cached and completed in place).
class _Swagger(SwaggerRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, complete_schema(request.app, openapi_schema))


class _Redoc(RedocRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, complete_schema(request.app, openapi_schema))


class _Json(JsonRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, complete_schema(request.app, openapi_schema))


def openapi_config(title: str, version: str, description: str) -> OpenAPIConfig:
    swagger = _Swagger(
        js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
        css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
        path=["/", "/swagger"],
        favicon=_FAVICON,
    )
    redoc = _Redoc(js_url=f"{REDOC_ASSETS}/redoc.standalone.js", google_fonts=False, favicon=_FAVICON)
    return OpenAPIConfig(
        title=title,
        version=version,
        path=SCHEMA_PATH,
        description=description,
        render_plugins=[swagger, redoc, _Json()],
        components=Components(
            security_schemes={
                SECURITY_SCHEME: SecurityScheme(
                    type="apiKey",
                    name="X-API-Key",
                    security_scheme_in="header",
                    description="An API key (`sq_...`); its scopes (read, write, restore, admin) decide what it may do",
                )
            }
        ),
    )


def _scope_text(handler: HTTPRouteHandler, scope: str) -> str:
    relax = handler.opt.get("read_scope_query")
    text = f"{_SCOPE_NOTE} `{scope}`"
    if relax:
        text += f" (`read` when `{relax}=true`)"
    if handler.opt.get("query_key"):
        text += "; browsers may pass the key as `?api_key=`"
    return text + "."


def document_security(app: Litestar) -> None:
    """Give every protected operation the X-API-Key requirement and its scope in the description."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            method = sorted(handler.http_methods)[0]
            scope = documented_scope(handler, method)
            if scope == "public":
                continue
            described = handler.description or ""
            if _SCOPE_NOTE not in described:
                handler.description = f"{described}\n\n{_scope_text(handler, scope)}".strip()
            security: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]
            handler.security = security
            handler._resolved_security = security  # resolve_security() caches; this is the answer
