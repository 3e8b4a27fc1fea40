"""Simulated IOCs for tests: real caproto servers in subprocesses on random loopback ports.

libca reads EPICS_CA_ADDR_LIST once, when the process's CA context is made, so every port a test may
use is chosen here at import (before any CA call) and listed up front: a session IOC that stays up,
and a restartable one that a test can stop and start again on the same port.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from squirrel.tools.sim import SimHandle, free_port, start_sim

STABLE_PORT = free_port()
RESTART_PORT = free_port()
while RESTART_PORT == STABLE_PORT:
    RESTART_PORT = free_port()

os.environ["EPICS_CA_ADDR_LIST"] = f"127.0.0.1:{STABLE_PORT} 127.0.0.1:{RESTART_PORT}"
os.environ["EPICS_CA_AUTO_ADDR_LIST"] = "NO"
os.environ.setdefault("EPICS_CA_MAX_ARRAY_BYTES", "10000000")

STABLE_PREFIX = "TS:"
RESTART_PREFIX = "RS:"


@pytest.fixture(scope="session")
def sim_ioc() -> Iterator[SimHandle]:
    """One IOC for the whole session: 40 pairs (half of the readbacks updating) plus the special set."""
    handle = start_sim(80, 1, STABLE_PREFIX, ports=[STABLE_PORT], update_fraction=0.5, special=True)
    yield handle
    handle.stop()


@pytest.fixture
def restartable_ioc() -> Iterator[SimHandle]:
    """An IOC a test may stop (`.iocs[0].stop()`, a crash as clients see it) and start again."""
    handle = start_sim(20, 1, RESTART_PREFIX, ports=[RESTART_PORT], update_fraction=0.0, special=True)
    yield handle
    handle.stop()


@pytest.fixture
async def ca_purge() -> AsyncIterator[None]:
    """aioca's channel cache is per event loop: purge it before this test's loop closes."""
    yield
    import aioca

    aioca.purge_channel_caches()
