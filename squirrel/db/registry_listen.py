"""LISTEN squirrel_registry: registry change notifications for the monitors.

The row triggers (migration 0009) and the app send payloads on this channel; what they mean is the
monitors' business (squirrel.pv.parse_payload). Here only the connection: kept
open for ever, re-made when lost, each (re)connect announced first, since changes made while nobody
listened were not heard.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable

import psycopg
import structlog

from squirrel.pv import Listen

log = structlog.get_logger(__name__)
RETRY = 1.0  # s between reconnection attempts


async def listen(
    conninfo: str,
    on_payload: Callable[[str], None],
    on_connect: Callable[[], None],
    listening: asyncio.Event | None = None,
) -> None:
    """LISTEN for ever: `on_connect()` after each (re)connect, then `on_payload(p)` per notification.

    `listening` is set once the first LISTEN is in place (a first full load after it misses nothing)."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute("LISTEN squirrel_registry")
                on_connect()
                if listening is not None:
                    listening.set()
                async for note in conn.notifies():
                    on_payload(note.payload)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("registry LISTEN connection lost; reconnecting", error=str(exc))
            await asyncio.sleep(RETRY)


def listener(conninfo: str | None) -> Listen | None:
    """`listen` bound to a database (None without one: the monitor then relies on its periodic resync)."""
    return None if conninfo is None else functools.partial(listen, conninfo)
