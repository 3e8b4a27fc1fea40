"""The old WebSocket protocol (`/v1/ws/pvs`) over the shared broadcaster, free of HTTP types.

Client → server: {"type":"subscribe"|"unsubscribe","pvNames":[..]} (`pv_names` too), {"type":"ping"},
{"type":"get_all"}. Server → client: initial, diff, heartbeat, pong, all_values, error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import msgspec

from squirrel.live.broadcaster import Broadcaster
from squirrel.live.sse import now_bytes, wait_event

MAX_NAMES = 100_000


class ClientMessage(msgspec.Struct, forbid_unknown_fields=False):
    type: str
    pvNames: list[str] | None = None
    pv_names: list[str] | None = None


_decode = msgspec.json.Decoder(ClientMessage).decode
_encode = msgspec.json.encode


class WsSession:
    def __init__(
        self,
        broadcaster: Broadcaster,
        send: Callable[[bytes], Awaitable[None]],
        *,
        heartbeat: float,
        min_interval: float,
        monitor_alive: Callable[[], bool],
    ) -> None:
        self.broadcaster = broadcaster
        self._send_raw = send
        self._lock = asyncio.Lock()
        self.heartbeat = heartbeat
        self.min_interval = min_interval
        self.monitor_alive = monitor_alive
        self.sub = broadcaster.subscribe(set(), kind="ws")

    async def send(self, data: bytes) -> None:
        async with self._lock:  # replies and the pump share one socket
            await self._send_raw(data)

    async def error(self, message: str) -> None:
        await self.send(_encode({"type": "error", "message": message}))

    async def handle(self, raw: str | bytes) -> None:
        """Answer one client message; a malformed one gets an `error` message, never a closed socket."""
        try:
            msg = _decode(raw)
        except msgspec.DecodeError as exc:
            await self.error(f"invalid message: {exc}")
            return
        if msg.type in ("subscribe", "unsubscribe"):
            names = msg.pvNames if msg.pvNames is not None else msg.pv_names
            if names is None:
                await self.error(f"{msg.type} needs pvNames (or pv_names): a list of PV addresses")
                return
            names = [n for n in dict.fromkeys(n.strip() for n in names) if n]
            if msg.type == "subscribe":
                await self._subscribe(names)
            else:
                selection = self.sub.addresses or set()
                self.sub.select(selection - set(names))
        elif msg.type == "ping":
            await self.send(b'{"type":"pong","timestamp":' + now_bytes() + b"}")
        elif msg.type == "get_all":
            encoder = self.broadcaster.encoder
            body, count = await encoder.encode_fresh(self.broadcaster.cache.addresses())
            await self.send(b'{"type":"all_values","values":' + body + b',"count":' + str(count).encode() + b"}")
        else:
            await self.error(f"unknown message type {msg.type!r}: use subscribe, unsubscribe, ping or get_all")

    async def _subscribe(self, names: list[str]) -> None:
        selection = set(self.sub.addresses or ())
        if len(selection) + len(names) > MAX_NAMES:
            await self.error(f"at most {MAX_NAMES} subscribed PVs per connection")
            return
        self.broadcaster.tick()  # as in subscribe(): the initial below is current, diffs come after it
        self.sub.select(selection | set(names))
        body, count = await self.broadcaster.encoder.encode_map_yielding(names)
        await self.send(b'{"type":"initial","data":' + body + b',"count":' + str(count).encode() + b"}")

    async def pump(self) -> None:
        """Push coalesced diffs (at most one per min_interval) and heartbeats until the session closes."""
        loop = asyncio.get_running_loop()
        sub = self.sub
        last_beat = loop.time()
        last_diff = last_beat - self.min_interval  # the window spaces diffs; an initial is not one
        while not sub.closed:
            now = loop.time()
            beat_due = last_beat + self.heartbeat
            if now >= beat_due:
                alive = b"true" if self.monitor_alive() else b"false"
                await self.send(b'{"type":"heartbeat","timestamp":' + now_bytes() + b',"monitor_alive":' + alive + b"}")
                last_beat = now
                continue
            if now < last_diff + self.min_interval:
                # The window is closed: sleep until it opens, whatever arrives meanwhile.
                await asyncio.sleep(min(last_diff + self.min_interval, beat_due) - now)
                continue
            self.broadcaster.flush()  # the window is open: also take what the monitor applied since the tick
            if sub.has_pending:
                body, count = await self.broadcaster.encoder.encode_map_yielding(sub.take(lambda: sub.addresses or ()))
                if count:
                    await self.send(
                        b'{"type":"diff","data":'
                        + body
                        + b',"count":'
                        + str(count).encode()
                        + b',"timestamp":'
                        + now_bytes()
                        + b"}"
                    )
                    last_diff = loop.time()
                continue
            sub.event.clear()
            await wait_event(sub.event, beat_due - now)

    def close(self) -> None:
        self.broadcaster.unsubscribe(self.sub)
