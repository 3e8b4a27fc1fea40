"""Per-IOC circuit breakers, keyed by the CA server "host:port" libca reports for a channel.

A server whose requests keep timing out (or whose every monitored channel dropped) gets its circuit
opened: bulk reads and writes then skip its PVs at once ("circuit open") instead of waiting a timeout
each. After the cool-down the circuit half-opens (requests go through again); a success closes it,
another failure re-opens it. Operators can force a circuit open or closed.

A hung IOC (stopped, not dead) keeps its TCP circuit: libca reports its channels connected until its
echo probe gives up (EPICS_CA_CONN_TMO, then a few seconds). Meanwhile a direct read or write that
times out marks the circuit *suspect* (health shows it); a success, or libca dropping the channels,
clears the mark.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, Literal

State = Literal["closed", "open", "half_open"]


class Breaker:
    __slots__ = (
        "failures",
        "forced",
        "last_change",
        "last_error",
        "name",
        "opened_at",
        "opens",
        "reason",
        "state",
        "suspect_since",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.state: State = "closed"
        self.failures = 0
        self.opened_at: float | None = None
        self.last_change = time.time()
        self.last_error: str | None = None
        self.reason: str | None = None
        self.forced = False
        self.opens = 0
        self.suspect_since: float | None = None  # wall clock of the first timeout while libca kept it up


class BreakerSet:
    """All circuits of this process; one instance shared by the monitor, bulk reads and writes."""

    def __init__(self, failures: int = 3, cooldown: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.failures = max(1, failures)
        self.cooldown = cooldown
        self._clock = clock
        self._breakers: dict[str, Breaker] = {}
        self._server_of: dict[str, str] = {}  # address -> last known server (a dead channel forgets it)
        # PVs per server, kept as addresses are learnt and forgotten: states() is read by every /metrics
        # scrape, and counting by walking _server_of per circuit grew with circuits × PVs.
        self._pv_count: Counter[str] = Counter()

    # --- what server serves an address --------------------------------------------------------
    def learn(self, address: str, server: str | None) -> None:
        self.learn_many(((address, server),))

    def learn_many(self, pairs: Iterable[tuple[str, str | None]]) -> None:
        """(address, server) as a batch reports them: one pass, each server's breaker made once."""
        server_of, counts = self._server_of, self._pv_count
        servers: set[str] = set()
        for address, server in pairs:
            if not server or server.startswith("<"):
                continue
            old = server_of.get(address)
            if old != server:
                if old is not None:
                    counts[old] -= 1
                server_of[address] = server
                counts[server] += 1
            servers.add(server)
        for server in servers:
            self._get(server)

    def server_of(self, address: str) -> str | None:
        return self._server_of.get(address)

    def forget(self, address: str) -> None:
        old = self._server_of.pop(address, None)
        if old is not None:
            self._pv_count[old] -= 1

    # --- decisions ---------------------------------------------------------------------------
    def allows(self, server: str | None) -> bool:
        """May a request go to this server now? An open circuit half-opens after the cool-down."""
        if server is None:
            return True
        b = self._breakers.get(server)
        if b is None or b.state == "closed":
            return True
        if b.state == "open" and not b.forced and b.opened_at is not None:
            if self._clock() - b.opened_at >= self.cooldown:
                self._set(b, "half_open", b.reason)
        return b.state != "open"

    def allows_address(self, address: str) -> bool:
        return self.allows(self._server_of.get(address))

    def split_allowed(self, addresses: Iterable[str]) -> tuple[list[str], list[str]]:
        """(allowed, refused) in the order given. While every breaker is closed (nearly always) that
        is all of them, without a look-up per address: a 200K-PV read asks."""
        if all(b.state == "closed" for b in self._breakers.values()):
            return list(addresses), []
        allowed: list[str] = []
        refused: list[str] = []
        for address in addresses:
            (allowed if self.allows_address(address) else refused).append(address)
        return allowed, refused

    def record_success(self, server: str | None) -> None:
        if server is None:
            return
        b = self._get(server)
        b.failures = 0
        b.suspect_since = None
        if b.state != "closed" and not b.forced:
            self._set(b, "closed", None)

    def record_failure(self, server: str | None, error: str = "timeout") -> None:
        if server is None:
            return
        b = self._get(server)
        b.failures += 1
        b.last_error = error
        if error == "timeout" and b.suspect_since is None:
            b.suspect_since = time.time()
        if b.forced:
            return
        if b.state == "half_open" or (b.state == "closed" and b.failures >= self.failures):
            self._open(b, error)

    def server_down(self, server: str, reason: str = "all monitored channels disconnected") -> None:
        """The monitor saw every channel of this server drop: the circuit is gone, open at once."""
        b = self._get(server)
        b.last_error = reason
        b.suspect_since = None  # libca gave up on it: its channels show disconnected now
        if b.state != "open" and not b.forced:
            self._open(b, reason)

    def server_up(self, server: str) -> None:
        self.record_success(server)

    # --- operator ----------------------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self._breakers

    def force_open(self, name: str) -> dict[str, Any]:
        b = self._breakers[name]  # KeyError = unknown circuit; the service maps it to 404
        b.forced = True
        self._open(b, "forced open")
        return self._describe(b)

    def force_close(self, name: str) -> dict[str, Any]:
        b = self._breakers[name]
        b.forced = False
        b.failures = 0
        self._set(b, "closed", None)
        return self._describe(b)

    def states(self) -> list[dict[str, Any]]:
        for b in self._breakers.values():
            self.allows(b.name)  # let due circuits half-open so the report is current
        return [self._describe(b) for b in sorted(self._breakers.values(), key=lambda b: b.name)]

    def suspect_servers(self) -> set[str]:
        """Servers whose direct requests time out while libca still reports them connected."""
        return {b.name for b in self._breakers.values() if b.suspect_since is not None}

    def open_count(self) -> int:
        return sum(1 for b in self._breakers.values() if b.state == "open")

    # --- internals ---------------------------------------------------------------------------
    def _get(self, server: str) -> Breaker:
        b = self._breakers.get(server)
        if b is None:
            b = self._breakers[server] = Breaker(server)
        return b

    def _open(self, b: Breaker, reason: str) -> None:
        b.opened_at = self._clock()
        b.opens += 1
        self._set(b, "open", reason)

    def _set(self, b: Breaker, state: State, reason: str | None) -> None:
        if b.state != state:
            b.last_change = time.time()
        b.state = state
        b.reason = reason

    def _describe(self, b: Breaker) -> dict[str, Any]:
        pvs = self._pv_count[b.name]
        return {
            "name": b.name,
            "state": b.state,
            "consecutive_failures": b.failures,
            "failure_threshold": self.failures,
            "cooldown_s": self.cooldown,
            "forced": b.forced,
            "reason": b.reason,
            "last_error": b.last_error,
            "opened_count": b.opens,
            "last_change": b.last_change,
            "pv_count": pvs,
            "suspect": b.suspect_since is not None,
            "suspect_since": b.suspect_since,
        }
