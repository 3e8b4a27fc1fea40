"""At most PUT_WINDOW puts-with-completion in flight per CA server; the rest wait their turn.

An IOC completes a put-with-completion through its low-priority callback queue (callbackQueueSize,
2000 entries by default, shared with the IOC's own callbacks). A restore that sent 12,500 of them to one
soft IOC at once filled it: the IOC logged "callbackRequest: ERROR cbLow ring buffer full", dropped the
completions, and 298 PVs of a 200K-PV restore ended as put timeouts although written. The window keeps
every server's share of that queue bounded, across all batches of the event loop (a restore writes its
chunks concurrently).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

PUT_WINDOW = 500  # puts with completion in flight per server: a quarter of the default callback queue
_limit = PUT_WINDOW  # what new windows take (SQUIRREL_CA_PUT_WINDOW through squirrel.epics.ca.set_put_window)

Send = Callable[[], bool]  # issues one request; True when libca took it (its completion will come)


class ServerWindow:
    """Requests in flight per server (`host:port`), and the sends waiting for a free place (loop thread)."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = _limit if limit is None else limit
        self._in_flight: dict[str, int] = {}
        self._waiting: dict[str, deque[Send]] = {}

    def in_flight(self, server: str) -> int:
        return self._in_flight.get(server, 0)

    def waiting(self, server: str) -> int:
        return len(self._waiting.get(server, ()))

    def submit(self, server: str, send: Send) -> None:
        """Send now if the server has a free place (and nobody waits before it), else queue the send."""
        if self.in_flight(server) < self.limit and not self._waiting.get(server):
            if send():
                self._in_flight[server] = self.in_flight(server) + 1
        else:
            self._waiting.setdefault(server, deque()).append(send)

    def done(self, server: str, count: int = 1) -> None:
        """`count` requests to `server` completed (or were given up): send what waits, up to the limit."""
        left = self.in_flight(server) - count
        if left > 0:
            self._in_flight[server] = left
        else:
            self._in_flight.pop(server, None)
            left = 0
        queue = self._waiting.get(server)
        while queue and left < self.limit:
            if queue.popleft()():
                left += 1
        if left:
            self._in_flight[server] = left
        if queue is not None and not queue:
            del self._waiting[server]


def set_default_limit(limit: int) -> None:
    """The limit of windows made from now on."""
    global _limit
    _limit = limit
