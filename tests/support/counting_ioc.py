"""A caproto IOC that logs every put it accepts (run as `python -m tests.support.counting_ioc`).

`<prefix>p0 .. p<count-1>` are doubles. Puts are applied one at a time, each taking `<prefix>delay`
seconds (a PV, 0 at start), like an IOC working through a long queue of writes; each accepted put
appends "name value" to the log file, so a test counts the writes each PV received.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tests.support.caproto_ioc import IOCProcess, serve_pvdb


def pvdb(prefix: str, count: int, log: Any) -> dict[str, Any]:
    import caproto

    lock = asyncio.Lock()
    delay = caproto.ChannelDouble(value=0.0)

    class Counted(caproto.ChannelDouble):  # type: ignore[misc]
        async def verify_value(self, data: Any) -> Any:
            async with lock:  # one put at a time, in arrival order
                if delay.value:
                    await asyncio.sleep(delay.value)
                value = await super().verify_value(data)
                log.write(f"{self.name} {value}\n")
                log.flush()
                return value

    pvs = {f"{prefix}delay": delay}
    for i in range(count):
        channel = Counted(value=0.0)
        channel.name = f"{prefix}p{i}"
        pvs[channel.name] = channel
    return pvs


async def serve(prefix: str, port: int, count: int, log_path: str) -> None:
    with open(log_path, "a") as log:  # noqa: ASYNC230  (once, before the server starts)
        await serve_pvdb(pvdb(prefix, count, log), port)


class CountingIOC(IOCProcess):
    """The IOC as a subprocess; `puts()` counts the writes logged since the last `reset()`."""

    def __init__(self, prefix: str, port: int, count: int, log_path: Path) -> None:
        super().__init__(port)
        self.prefix, self.count, self.log_path = prefix, count, log_path
        self._offset = 0

    def name(self, i: int) -> str:
        return f"{self.prefix}p{i}"

    def start(self) -> None:
        self.log_path.write_text("")
        args = (self.prefix, str(self.port), str(self.count), str(self.log_path))
        self.spawn("tests.support.counting_ioc", *args, what="counting IOC")

    def pause(self) -> None:
        """Freeze the IOC (SIGSTOP): nothing connects to it or reads it until resume()."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def _lines(self) -> list[str]:
        return self.log_path.read_text().splitlines()

    def reset(self) -> None:
        self._offset = len(self._lines())

    def puts(self) -> Counter[str]:
        return Counter(line.split()[0] for line in self._lines()[self._offset :])


if __name__ == "__main__":
    try:
        asyncio.run(serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
    except KeyboardInterrupt:
        pass
