"""The operator console at /ui/: server-rendered pages (Jinja2) plus small JavaScript modules that call
/v1 like any other client. Every asset ships in this package: nothing is fetched from the network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from squirrel.ui._pages import ConsoleController
from squirrel.ui._session import SessionController

HERE = Path(__file__).parent
STATIC_PATH = "/ui/static"


def ui_routes() -> list[Any]:
    static = create_static_files_router(
        STATIC_PATH, [HERE / "static"], name="ui-static", opt={"scope": "public"}, include_in_schema=False
    )
    return [SessionController, ConsoleController, static]


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)
