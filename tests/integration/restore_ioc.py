"""A small caproto IOC for the restore tests (run as a subprocess: `python -m tests.integration.restore_ioc`).

What the shared simulator lacks: drive limits, a readback that follows its setpoint, and a put that
completes slowly enough to kill another IOC while it is in flight.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from typing import Any

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
    from caproto.asyncio.server import Context

    logging.getLogger("caproto").setLevel(logging.ERROR)
    ctx = Context(pvdb(prefix), interfaces=["127.0.0.1"])
    ctx.ca_server_port = port
    started = asyncio.get_running_loop().create_future()

    async def hook(_: Any) -> None:
        started.set_result(None)

    run = asyncio.create_task(ctx.run(startup_hook=hook))
    await started
    print(f"READY {ctx.port}", flush=True)
    await run


class RestoreIOC:
    """The IOC as a subprocess; stop() kills it (a crash, as clients see it)."""

    def __init__(self, prefix: str, port: int) -> None:
        self.prefix = prefix
        self.port = port
        self.proc: subprocess.Popen[str] | None = None

    def name(self, short: str) -> str:
        return f"{self.prefix}{short}"

    def start(self) -> None:
        args = [sys.executable, "-m", "tests.integration.restore_ioc", self.prefix, str(self.port)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != f"READY {self.port}":
            self.stop()
            raise RuntimeError(f"restore test IOC did not start on {self.port}: {line!r}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            if self.proc.stdout:
                self.proc.stdout.close()
            self.proc = None


if __name__ == "__main__":
    try:
        asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
    except KeyboardInterrupt:
        pass
