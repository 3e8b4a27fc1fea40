"""A typed client for the Squirrel HTTP API (/v1): `Client` (blocking) and `AsyncClient` (asyncio).

    from squirrel.client import Client, NewSnapshotBody
    with Client() as sq:                      # SQUIRREL_URL, SQUIRREL_API_KEY
        job = sq.wait_job(sq.create_snapshot(NewSnapshotBody(title="shift start")).job_id)

Answers are the service's own msgspec DTOs (squirrel.model, widened in squirrel.client._dto by fields
newer servers send); errors raise `ApiError` subclasses carrying the problem's type, status and detail.
"""

from squirrel.client._config import DEFAULT_URL, ClientConfig, read_key_file
from squirrel.client._dto import (
    CompareDifference,
    CompareResult,
    Job,
    MissingCounts,
    RestoreOutcome,
    Snapshot,
    SnapshotSummary,
)
from squirrel.client._errors import (
    ApiError,
    AuthError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    ConnectError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from squirrel.client._sse import Event, EventParser
from squirrel.client._transport import AsyncClient, Client
from squirrel.model import NewPVElementDTO, NewSnapshotBody, RestoreRequest, UpdateSnapshotBody

__all__ = [
    "DEFAULT_URL",
    "ApiError",
    "AsyncClient",
    "AuthError",
    "BadRequestError",
    "Client",
    "ClientConfig",
    "CompareDifference",
    "CompareResult",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "Event",
    "EventParser",
    "Job",
    "MissingCounts",
    "NewPVElementDTO",
    "NewSnapshotBody",
    "NotFoundError",
    "RateLimitedError",
    "RestoreOutcome",
    "RestoreRequest",
    "ServerError",
    "Snapshot",
    "SnapshotSummary",
    "UpdateSnapshotBody",
    "read_key_file",
]
