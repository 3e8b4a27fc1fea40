"""Waiting for a condition in async tests: polled, bounded, failing with what was awaited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll `cond()` until true; the seconds it took. AssertionError naming `what` after `timeout` s."""
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - t0


async def until(cond: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """wait_for, when the time it took does not matter."""
    await wait_for(cond, timeout, what)
