"""What the Channel Access and PVAccess monitors share (squirrel.epics.monitor, squirrel.pva.monitor).

`MonitorCore` holds the watched addresses and everything about them that does not depend on the
protocol: start and stop, the registry follow (RegistryFollower) and its figures, the warm-up checks
cache snapshots wait on, connection counts per server for the circuit breakers, and the update rate.
A monitor adds its protocol's subscribe and unsubscribe (`_change`, `_unwatch`) and its decoding.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, Generic, Protocol, TypeVar

from squirrel.pv._batching import Handover
from squirrel.pv._cache import PVCache
from squirrel.pv._registry import Listen, LoadRows, RegistryFollower
from squirrel.pv._shared_io import UpdateRate, stop_tasks


class Watched(Protocol):
    """A watch as the core reads it: warm-up is counted from `since` (monotonic) until `heard`; `queued`
    while its update waits in the hand-over to the loop."""

    heard: bool
    since: float
    queued: bool


class ServerBreakers(Protocol):
    """What the core tells the circuit breakers as servers' channels come and go."""

    def learn(self, address: str, server: str | None) -> None: ...
    def server_up(self, server: str) -> None: ...
    def server_down(self, server: str) -> None: ...


W = TypeVar("W", bound=Watched)


class MonitorCore(ABC, Generic[W]):
    """The protocol-independent half of a monitor; `protocol` names it in logs ("ca", "pva")."""

    protocol: str

    def __init__(
        self,
        cache: PVCache,
        breakers: ServerBreakers | None,
        updates: Handover[W, Any],
        *,
        load_rows: LoadRows | None,
        listen: Listen | None,
        resync_interval: float,
    ) -> None:
        self.cache = cache
        self.breakers = breakers
        self.running = False
        self.errors = 0
        self.merged = 0  # queued updates replaced by a newer one before the loop applied them
        self.started_at: float | None = None
        self.follower = (
            None
            if load_rows is None
            else RegistryFollower(load_rows, self.sync, self.change, resync_interval, self.protocol)
        )
        self._listen = listen
        self._watches: dict[str, W] = {}
        self._up_per_server: dict[str, int] = {}
        self._updates = updates
        self._tasks: list[asyncio.Task[None]] = []
        self._sync_lock = asyncio.Lock()
        self._rate = UpdateRate()

    # --- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        self._updates.loop = asyncio.get_running_loop()
        self.started_at = time.time()
        self.running = True
        self._tasks.append(asyncio.create_task(self._sample_rate()))
        self._tasks.extend(self._own_tasks())
        if self.follower is not None:
            self._tasks.extend(self.follower.start(self._listen))

    async def stop(self) -> None:
        self.running = False
        await stop_tasks(self._tasks)
        for w in list(self._watches.values()):
            self._unwatch(w)
        self._unwatched_all()
        self._updates.clear()

    def _own_tasks(self) -> list[asyncio.Task[None]]:
        """The monitor's own background tasks, started with it and cancelled by stop()."""
        return []

    def _unwatched_all(self) -> None:
        """After stop() unwatched everything (e.g. flush the protocol's send queue)."""

    # --- the registry, followed live ------------------------------------------------------------
    async def sync(self, addresses: set[str]) -> None:
        """(Un)subscribe the difference to `addresses`."""
        async with self._sync_lock:
            gone = {a for a in self._watches if a not in addresses}
            await self._change({a for a in addresses if a not in self._watches}, gone)

    async def change(self, added: set[str], removed: set[str]) -> None:
        """(Un)subscribe these addresses (a registry change applied alone)."""
        async with self._sync_lock:
            await self._change(added, removed)

    @abstractmethod
    async def _change(self, added: set[str], removed: set[str]) -> None:
        """Subscribe `added`, unsubscribe `removed` (under the sync lock)."""

    @abstractmethod
    def _unwatch(self, w: W) -> None:
        """Unsubscribe one watch and drop its address from `_watches` and the cache."""

    # Registry follow figures (health): full reloads + incremental applies, and each kind.
    @property
    def resyncs(self) -> int:
        return self.follower.resyncs if self.follower is not None else 0

    @property
    def full_resyncs(self) -> int:
        return self.follower.full_resyncs if self.follower is not None else 0

    @property
    def incremental_applies(self) -> int:
        return self.follower.incremental_applies if self.follower is not None else 0

    # --- servers: the breakers hear of a server's first channel up and its last one down ----------
    def _server_connected(self, address: str, server: str) -> None:
        up = self._up_per_server[server] = self._up_per_server.get(server, 0) + 1
        if self.breakers is not None:
            self.breakers.learn(address, server)
            if up == 1:
                self.breakers.server_up(server)

    def _server_lost(self, server: str, tell_breakers: bool) -> None:
        left = self._up_per_server.get(server, 0) - 1
        if left > 0:
            self._up_per_server[server] = left
            return
        self._up_per_server.pop(server, None)
        if tell_breakers and self.breakers is not None:
            self.breakers.server_down(server)

    # --- warm-up (cache snapshots wait for it: services.monitoring.wait_warm) ---------------------
    def watching(self, address: str) -> bool:
        return address in self._watches

    def is_warm(self, address: str, warmup: float, now: float) -> bool:
        """Subscribed, and its first value came or `warmup` s went by without one (`now`: monotonic)."""
        return not self.cold((address,), warmup, now)

    def cold(self, addresses: Iterable[str], warmup: float, now: float) -> list[str]:
        """Those of `addresses` that are not warm (see is_warm), in one pass: a snapshot asks for 50K."""
        get = self._watches.get
        return [a for a in addresses if (w := get(a)) is None or not (w.heard or now - w.since >= warmup)]

    # --- figures ---------------------------------------------------------------------------------
    async def _sample_rate(self) -> None:
        while True:
            self._rate.sample(self._updates_so_far())
            self._sampled()
            await asyncio.sleep(1.0)

    def _updates_so_far(self) -> int:
        """The counter the update rate is taken from."""
        return self.cache.total_updates

    def _sampled(self) -> None:
        """Once a second, after the rate sample."""

    @property
    def updates_per_s(self) -> float:
        return self._rate.per_s

    @property
    def subscribed(self) -> int:
        return len(self._watches)

    def addresses(self) -> Iterable[str]:
        return self._watches.keys()
