"""/metrics: Prometheus text (public when SQUIRREL_METRICS_ENABLED, else 404)."""

from __future__ import annotations

from litestar import get
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST

from squirrel.api.deps import CtxDep
from squirrel.errors import NotFoundError
from squirrel.services import metrics

# Litestar adds the charset itself: the library's type already names one, which would make it twice.
_MEDIA = CONTENT_TYPE_LATEST.split(";")[0] + "".join(
    f";{p}" for p in CONTENT_TYPE_LATEST.split(";")[1:] if not p.strip().startswith("charset")
)


@get(
    "/metrics",
    opt={"scope": "public", "errors": [404]},
    tags=["health"],
    summary="Prometheus metrics",
    description="404 when SQUIRREL_METRICS_ENABLED=false.",
    responses={200: ResponseSpec(str, media_type="text/plain", description="Prometheus text format")},
)
async def get_metrics(ctx: CtxDep) -> Response[bytes]:
    if not ctx.settings.metrics_enabled:
        raise NotFoundError("metrics are disabled (SQUIRREL_METRICS_ENABLED=false)")
    return Response(metrics.render(ctx), media_type=_MEDIA)


ROUTES = [get_metrics]
