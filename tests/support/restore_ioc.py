"""A small caproto IOC for the restore tests (run as a subprocess: `python -m tests.support.restore_ioc`).

What the shared simulator lacks: drive limits, a readback that follows its setpoint, and a put that
completes slowly enough to kill another IOC while it is in flight.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from typing import Any, Literal

import pytest

from tests.support.caproto_ioc import IOCProcess, serve_pvdb

SLOW_PUT = 2.0
NOISY = 6


def pvdb(prefix: str) -> dict[str, Any]:
    import caproto

    class Mirrored(caproto.ChannelDouble):  # type: ignore[misc]
        """A setpoint whose readback takes the written value before the put completes."""

        mirror: Any = None

        async def verify_value(self, data: Any) -> Any:
            value = await super().verify_value(data)
            if self.mirror is not None:
                await self.mirror.write(value)
            return value

    class Slow(caproto.ChannelDouble):  # type: ignore[misc]
        async def verify_value(self, data: Any) -> Any:
            await asyncio.sleep(SLOW_PUT)
            return await super().verify_value(data)

    class Lenient(caproto.ChannelDouble):  # type: ignore[misc]
        """Reports drive limits but accepts any value, like an IOC whose limits were tightened later."""

        async def verify_value(self, data: Any) -> Any:
            return data

    class Stuck(caproto.ChannelDouble):  # type: ignore[misc]
        """Accepts the put but its readback never follows (verification must report a mismatch)."""

    sp = Mirrored(value=1.0, precision=3)
    rb = caproto.ChannelDouble(value=1.0, precision=3)
    sp.mirror = rb
    return {
        f"{prefix}limited": Lenient(value=1.0, lower_ctrl_limit=-10.0, upper_ctrl_limit=10.0),
        f"{prefix}sp": sp,
        f"{prefix}rb": rb,
        f"{prefix}stuck": Stuck(value=1.0),
        f"{prefix}stuck_rb": caproto.ChannelDouble(value=1.0),
        f"{prefix}slow": Slow(value=1.0),
        f"{prefix}a": caproto.ChannelDouble(value=1.0),
        f"{prefix}b": caproto.ChannelDouble(value=1.0),
        # Setpoint/readback pairs whose readbacks are moved independently (readback noise for compare).
        **{f"{prefix}n{i}": caproto.ChannelDouble(value=1.0) for i in range(NOISY)},
        **{f"{prefix}n{i}_rb": caproto.ChannelDouble(value=1.0) for i in range(NOISY)},
    }


async def serve(prefix: str, port: int) -> None:
    await serve_pvdb(pvdb(prefix), port)


class RestoreIOC(IOCProcess):
    """The IOC as a subprocess; stop() kills it (a crash, as clients see it)."""

    def __init__(self, prefix: str, port: int) -> None:
        super().__init__(port)
        self.prefix = prefix

    def name(self, short: str) -> str:
        return f"{self.prefix}{short}"

    def start(self) -> None:
        self.spawn("tests.support.restore_ioc", self.prefix, str(self.port), what="restore test IOC")


def restore_ioc_fixture(prefix: str, port: int, *, scope: Literal["function", "module"] = "module") -> Any:
    """A fixture that runs a RestoreIOC for `prefix` on `port` (one of listed_ports) around its tests."""

    @pytest.fixture(scope=scope)
    def running() -> Iterator[RestoreIOC]:
        server = RestoreIOC(prefix, port)
        server.start()
        yield server
        server.stop()

    return running


def monitor_roles(request: pytest.FixtureRequest, roles: list[str]) -> list[str]:
    """`roles`, with the monitor after "api" for a test parametrized {"with_monitor": True} (WITH_MONITOR)."""
    monitor = getattr(request, "param", {}).get("with_monitor", False)
    return [roles[0], "monitor", *roles[1:]] if monitor else roles


# The monitor (live cache) only where a test needs compare-with-live: it costs seconds at start-up.
WITH_MONITOR = pytest.mark.parametrize("settings_overrides", [{"with_monitor": True}], indirect=True)

if __name__ == "__main__":
    try:
        asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
    except KeyboardInterrupt:
        pass
