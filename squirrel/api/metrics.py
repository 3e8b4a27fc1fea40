"""/metrics: Prometheus text (public when SQUIRREL_METRICS_ENABLED, else 404)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST

from squirrel.api.common import ctx_of
from squirrel.errors import NotFoundError
from squirrel.services import metrics


@get("/metrics", opt={"scope": "public"}, tags=["health"], summary="Prometheus metrics")
async def get_metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    ctx = ctx_of(request)
    if not ctx.settings.metrics_enabled:
        raise NotFoundError("metrics are disabled (SQUIRREL_METRICS_ENABLED=false)")
    return Response(metrics.render(ctx), media_type=CONTENT_TYPE_LATEST)


ROUTES = [get_metrics]
