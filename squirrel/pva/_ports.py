"""What this package needs of the services' circuit breakers (a structural type: no import), and the
cache it fills (squirrel.pv's, below this layer)."""

from __future__ import annotations

from typing import Protocol

from squirrel.pv import PVCache, PVState


class Breakers(Protocol):
    def learn(self, address: str, server: str | None) -> None: ...
    def allows_address(self, address: str) -> bool: ...
    def record_success(self, server: str | None) -> None: ...
    def record_failure(self, server: str | None, error: str = "timeout") -> None: ...
    def server_down(self, server: str, reason: str = ...) -> None: ...
    def server_up(self, server: str) -> None: ...


Entry = PVState
Cache = PVCache
