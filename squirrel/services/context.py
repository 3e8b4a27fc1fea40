"""The running service's parts, built once by the app lifespan and handed to every service call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import AsyncConnectionPool

from squirrel.pv import PVCache
from squirrel.settings import Settings


@dataclass
class ServiceContext:
    settings: Settings
    pool: AsyncConnectionPool
    cache: PVCache = field(default_factory=PVCache)
    # Filled by the lifespan when the role runs; None otherwise.
    monitor: Any = None
    broadcaster: Any = None
    breakers: Any = None
    queue: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
