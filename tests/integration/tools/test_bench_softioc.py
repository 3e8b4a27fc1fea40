"""The bench's C soft IOCs: they serve the generated pairs on their own loopback ports, and what each IOC
writes to stderr is kept in its log (the bench copies the logs beside the service log when it lost a
figure)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from squirrel.epics import ca
from squirrel.tools.bench.softioc import _ca_ports, launch_iocs
from tests.support.caproto_ioc import listed_ports

pytestmark = pytest.mark.usefixtures("ca_purge")
PORTS = listed_ports(2)  # libca reads its address list once per process: the ports must be on it


def _listed() -> Callable[[], tuple[dict[str, str], str]]:
    """The soft IOCs' environment as the bench makes it, on this module's listed CA ports."""
    ports = iter(PORTS)

    def next_ports() -> tuple[dict[str, str], str]:
        env, _ = _ca_ports()
        port = next(ports)
        return {**env, "EPICS_CA_SERVER_PORT": str(port)}, f"127.0.0.1:{port}"

    return next_ports


async def test_two_iocs_serve_their_pairs_and_log_their_stderr() -> None:
    iocs = launch_iocs(40, 2, "SIOC:", "epicscorelibs.ioc", _listed())
    try:
        assert len(iocs.pairs) == 20 and len(iocs.pids()) == 2
        states = await ca.read_many(iocs.addresses, 10.0)
        assert all(s.connected and s.error is None for s in states.values()), states
        assert iocs.workdir is not None
        logs = sorted(iocs.workdir.glob("ioc*.log"))
        assert [p.name for p in logs] == ["ioc0.log", "ioc1.log"]
        assert all("IOC Running" in p.read_text() for p in logs)
    finally:
        iocs.stop()
