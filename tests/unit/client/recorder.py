"""A client whose `_send` hands back the Call it was given: what the route mixins build, without I/O."""

from __future__ import annotations

from typing import Any

from squirrel.client._calls import Call, SyncSender
from squirrel.client._routes_admin import AdminRoutes
from squirrel.client._routes_registry import RegistryRoutes
from squirrel.client._routes_snapshots import SnapshotRoutes


class Recorder(SyncSender, RegistryRoutes, SnapshotRoutes, AdminRoutes):
    def _send(self, call: Call[Any]) -> Any:
        return call
