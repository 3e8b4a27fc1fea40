"""Open streams (SSE, WebSocket) end when the key that opened them is revoked.

A stream is authenticated once, when it opens; without this it would outlive its key for as long as
the client keeps it open. KeyService.watch tells us about a revocation (at once in this process, within
its watch interval otherwise).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from litestar.connection import ASGIConnection

from squirrel.api.deps import key_service_of
from squirrel.model import Principal
from squirrel.services.keys import KeyWatch


def watch_key(connection: ASGIConnection[Any, Any, Any, Any], on_revoke: Callable[[], None]) -> KeyWatch | None:
    """Run `on_revoke` when the key of this connection is revoked; None for anonymous access."""
    principal: Principal | None = connection.state.get("principal")
    if principal is None or principal.key_id is None:
        return None
    return key_service_of(connection).watch(principal.key_id, on_revoke)


async def until_revoked(
    connection: ASGIConnection[Any, Any, Any, Any], source: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    """`source` until it ends or the connection's key is revoked, whichever comes first.

    For sources that cannot be told to stop: each item is awaited in a task raced against the
    revocation, so this suits slow streams (job progress), not high-rate ones."""
    revoked = asyncio.Event()
    watch = watch_key(connection, revoked.set)
    items = aiter(source)
    step: asyncio.Future[bytes] | None = None
    stop = asyncio.ensure_future(revoked.wait())
    try:
        while True:
            step = asyncio.ensure_future(anext(items))
            await asyncio.wait({step, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not step.done():
                return  # revoked
            try:
                chunk = step.result()
            except StopAsyncIteration:
                return
            yield chunk
    finally:
        # No awaits that could block here: a client disconnect cancels this generator (PITFALLS).
        if watch is not None:
            watch.cancel()
        stop.cancel()
        if step is not None and not step.done():
            step.cancel()  # the source is closed by the CancelledError inside that task
        else:
            await _aclose(source)


async def _aclose(source: AsyncIterator[bytes]) -> None:
    aclose = getattr(source, "aclose", None)
    if aclose is not None:
        await aclose()
