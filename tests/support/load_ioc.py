"""A caproto IOC with the bench's load controls (run as `python -m tests.support.load_ioc PREFIX PORT`).

`<prefix>LOAD:<b>` enables load block b (0/1), as the bench's soft IOCs do; `<prefix>TICK:<b>` is the
block's tick count, fixed at TICKS[b] here so a test knows what the bench must compute from it.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from tests.support.caproto_ioc import IOCProcess, serve_pvdb

TICKS = (10.0, 20.0, 30.0)


def pvdb(prefix: str) -> dict[str, Any]:
    import caproto

    pvs: dict[str, Any] = {}
    for b, ticks in enumerate(TICKS):
        pvs[f"{prefix}LOAD:{b}"] = caproto.ChannelInteger(value=0)
        pvs[f"{prefix}TICK:{b}"] = caproto.ChannelDouble(value=ticks)
    return pvs


class LoadIOC(IOCProcess):
    def __init__(self, prefix: str, port: int) -> None:
        super().__init__(port)
        self.prefix = prefix

    def start(self) -> None:
        self.spawn("tests.support.load_ioc", self.prefix, str(self.port), what="load control IOC")


if __name__ == "__main__":
    try:
        asyncio.run(serve_pvdb(pvdb(sys.argv[1]), int(sys.argv[2])))
    except KeyboardInterrupt:
        pass
