"""Every route handler and controller the app serves, in one list (each module contributes its own)."""

from __future__ import annotations

from typing import Any

from squirrel.api import audit as audit_api
from squirrel.api import health as health_api
from squirrel.api import health_v1 as health_v1_api
from squirrel.api import live as live_api
from squirrel.api import metrics as metrics_api
from squirrel.api import restore as restore_api
from squirrel.api.jobs import JobsController
from squirrel.api.keys import KeysController
from squirrel.api.pvs import PVController
from squirrel.api.schedules import SchedulesController
from squirrel.api.snapshots import SnapshotsController
from squirrel.api.tags import TagController


def all_routes() -> list[Any]:
    return [
        *health_api.ROUTES,
        *health_v1_api.ROUTES,
        *audit_api.ROUTES,
        *live_api.ROUTES,
        *metrics_api.ROUTES,
        *restore_api.ROUTES,
        KeysController,
        JobsController,
        SnapshotsController,
        SchedulesController,
        PVController,
        TagController,
    ]
