"""Server-Sent Events for live values: `initial` once, then coalesced `diff`s and `heartbeat`s.

Frames are encoded here as bytes (Litestar's ServerSentEvent would treat a dict as fields). The
generator only awaits its own subscriber's event and its own socket, never the broadcaster.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import msgspec

from squirrel.live.broadcaster import Broadcaster, Subscriber

RETRY_MS = 2000  # what EventSource waits before reconnecting


def frame(event: str, event_id: int, data: bytes) -> bytes:
    return b"event: " + event.encode() + b"\nid: " + str(event_id).encode() + b"\ndata: " + data + b"\n\n"


def entries_payload(entries: bytes, count: int) -> bytes:
    """`{"data": {address: entry}, "count": n, "timestamp": t}` around an already-encoded map."""
    return b'{"data":' + entries + b',"count":' + str(count).encode() + b',"timestamp":' + now_bytes() + b"}"


def heartbeat_payload(monitor_alive: bool) -> bytes:
    return b'{"timestamp":' + now_bytes() + b',"monitor_alive":' + (b"true" if monitor_alive else b"false") + b"}"


def now_bytes() -> bytes:
    return msgspec.json.encode(time.time())


async def wait_event(event: asyncio.Event, timeout: float) -> None:
    if timeout <= 0:
        return
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        pass


async def live_stream(
    broadcaster: Broadcaster,
    sub: Subscriber,
    *,
    first_id: int,
    heartbeat: float,
    min_interval: float,
    monitor_alive: Callable[[], bool],
) -> AsyncIterator[bytes]:
    """The event stream of one subscriber; unsubscribes when the client goes away or the app stops."""
    loop = asyncio.get_running_loop()
    encoder = broadcaster.encoder
    event_id = first_id
    try:
        selection = sub.addresses if sub.addresses is not None else broadcaster.cache.addresses()
        body, count = await encoder.encode_map_yielding(selection)
        yield b"retry: " + str(RETRY_MS).encode() + b"\n" + frame("initial", event_id, entries_payload(body, count))
        last_beat = loop.time()
        last_diff = last_beat - min_interval  # the window spaces diffs; the initial is not one
        while not sub.closed:
            now = loop.time()
            beat_due = last_beat + heartbeat
            if now >= beat_due:
                event_id += 1
                yield frame("heartbeat", event_id, heartbeat_payload(monitor_alive()))
                last_beat = now
                continue
            send_at = last_diff + min_interval
            if now < send_at:
                # The window is closed: sleep until it opens, whatever arrives meanwhile.
                await asyncio.sleep(min(send_at, beat_due) - now)
                continue
            broadcaster.flush()  # the window is open: also take what the monitor applied since the last tick
            if sub.has_pending:
                body, count = await encoder.encode_map_yielding(sub.take(broadcaster.cache.addresses))
                if count:
                    event_id += 1
                    yield frame("diff", event_id, entries_payload(body, count))
                    last_diff = loop.time()
                continue
            sub.event.clear()
            await wait_event(sub.event, beat_due - now)
    finally:
        # Synchronous on purpose: a cancelled generator cannot await in its finally.
        broadcaster.unsubscribe(sub)
