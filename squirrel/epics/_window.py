"""At most PUT_WINDOW puts-with-completion in flight per CA server; the rest wait their turn.

An IOC completes a put-with-completion through its low-priority callback queue (callbackQueueSize,
2000 entries by default, shared with the IOC's own callbacks). A restore that sent 12,500 of them to one
soft IOC at once filled it: the IOC logged "callbackRequest: ERROR cbLow ring buffer full", dropped the
completions, and 298 PVs of a 200K-PV restore ended as put timeouts although written. The window keeps
every server's share of that queue bounded, across all batches of the event loop (a restore writes its
chunks concurrently).

What waits is a *sender* per batch and server, not a callable per put: a sender sends as many of its
waiting puts as there is room for. A closure, its cells and a queue entry per put were the fastest
growing frames of a 200K-PV restore (38× the samples of a 50K one), and the collections they set off.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

PUT_WINDOW = 500  # puts with completion in flight per server: a quarter of the default callback queue
_limit = PUT_WINDOW  # what new windows take (SQUIRREL_CA_PUT_WINDOW through squirrel.epics.ca.set_put_window)


class Sender(Protocol):
    """One batch's requests waiting for places at one or more servers."""

    def send(self, server: str, room: int) -> tuple[int, bool]:
        """Send up to `room` of the requests waiting for `server`; (how many libca took, whether none is
        left to send). A refused request holds no place: the sender goes on with its next one."""
        ...


class ServerWindow:
    """Requests in flight per server (`host:port`), and the senders waiting for a free place (loop thread)."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = _limit if limit is None else limit
        self._in_flight: dict[str, int] = {}
        self._waiting: dict[str, deque[Sender]] = {}

    def in_flight(self, server: str) -> int:
        return self._in_flight.get(server, 0)

    def waiting(self, server: str) -> int:
        """Senders queued for `server` (each with one or more requests)."""
        return len(self._waiting.get(server, ()))

    def submit(self, server: str, sender: Sender) -> None:
        """Queue `sender` for `server` behind those already waiting; it sends at once what there is room for."""
        queue = self._waiting.get(server)
        if queue is None:
            queue = self._waiting[server] = deque()
        queue.append(sender)
        self._fill(server, queue)

    def done(self, server: str, count: int = 1) -> None:
        """`count` requests to `server` completed (or were given up): the waiting senders fill the room."""
        left = self._in_flight.get(server, 0) - count
        self._in_flight[server] = left if left > 0 else 0
        queue = self._waiting.get(server)
        if queue is not None:
            self._fill(server, queue)
        elif not self._in_flight[server]:
            del self._in_flight[server]

    def _fill(self, server: str, queue: deque[Sender]) -> None:
        in_flight = self._in_flight.get(server, 0)
        while queue and in_flight < self.limit:
            sent, finished = queue[0].send(server, self.limit - in_flight)
            in_flight += sent
            if not finished:
                break  # it filled the room
            queue.popleft()
        if not queue:
            del self._waiting[server]
        if in_flight:
            self._in_flight[server] = in_flight
        else:
            self._in_flight.pop(server, None)


def set_default_limit(limit: int) -> None:
    """The limit of windows made from now on."""
    global _limit
    _limit = limit
