"""The services handlers receive by Litestar dependency injection (app-level `dependencies`).

A handler names what it needs (`ctx: ServiceContext`, `registry: RegistryService`, ...) and gets the
lifespan's objects; dependencies are not request parameters, so they never reach the OpenAPI document
or the strict query-parameter check. The names avoid every query parameter name (`tags` is one).
"""

from __future__ import annotations

from typing import Any, TypeAlias, cast

from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation

from squirrel.services.context import ServiceContext
from squirrel.services.keys import KeyService
from squirrel.services.registry import RegistryService
from squirrel.services.tags import TagService

# Handler annotations. Marked as dependencies (Litestar 3 injects nothing else) and never validated:
# the signature model would otherwise ask msgspec to convert the whole context on every request.
CtxDep: TypeAlias = NamedDependency[SkipValidation[ServiceContext]]
KeyServiceDep: TypeAlias = NamedDependency[SkipValidation[KeyService]]
RegistryDep: TypeAlias = NamedDependency[SkipValidation[RegistryService]]
TagServiceDep: TypeAlias = NamedDependency[SkipValidation[TagService]]


def ctx_of_state(state: State) -> ServiceContext:
    """The context the lifespan built (app.state.ctx)."""
    return cast(ServiceContext, state.ctx)


def key_service_of_state(state: State) -> KeyService:
    """The one KeyService of the app: it holds the key cache and the revocation watches."""
    return cast(KeyService, state.key_service)


def registry_service(ctx: CtxDep) -> RegistryService:
    return RegistryService(ctx)


def tag_service(ctx: CtxDep) -> TagService:
    return TagService(ctx)


def ctx_of(connection: ASGIConnection[Any, Any, Any, Any]) -> ServiceContext:
    """For guards and middleware, which Litestar does not inject into."""
    return cast(ServiceContext, connection.app.state.ctx)


def key_service_of(connection: ASGIConnection[Any, Any, Any, Any]) -> KeyService:
    return cast(KeyService, connection.app.state.key_service)


DEPENDENCIES = {
    "ctx": Provide(ctx_of_state, sync_to_thread=False),
    "key_service": Provide(key_service_of_state, sync_to_thread=False),
    "registry": Provide(registry_service, sync_to_thread=False),
    "tag_service": Provide(tag_service, sync_to_thread=False),
}

__all__ = [
    "DEPENDENCIES",
    "CtxDep",
    "KeyServiceDep",
    "RegistryDep",
    "TagServiceDep",
    "ctx_of",
    "key_service_of",
]
