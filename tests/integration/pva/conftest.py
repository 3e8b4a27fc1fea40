"""One p4p test server per module (its PREFIX), and the process-wide p4p client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.pva_server import PvaServer, client_env


@pytest.fixture(scope="module")
def pva_server(request: pytest.FixtureRequest) -> Iterator[PvaServer]:
    server = PvaServer(request.module.PREFIX)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pva_env(pva_server: PvaServer) -> Iterator[None]:
    """The process-wide p4p client reads EPICS_PVA_* when created: point it at this module's server."""
    with client_env(pva_server):
        yield
