"""The one p4p client context of the process, created on first use (EPICS_PVA_* read then)."""

from __future__ import annotations

import threading
from typing import Any

from squirrel.addresses import PVA_MISSING as MISSING

_lock = threading.Lock()
_context: Any = None


class PvaUnavailable(RuntimeError):
    """p4p is not installed: every pva:// address reports this instead of a value."""


def context() -> Any:
    """The shared raw p4p client (p4p.client.raw.Context, nt=False: Values are not unwrapped).

    Its callbacks run in PVXS worker threads; callers batch their wake-ups into the event loop."""
    global _context
    with _lock:
        if _context is None:
            try:
                from p4p.client.raw import Context
            except ImportError as exc:
                raise PvaUnavailable(MISSING) from exc
            _context = Context("pva", useenv=True, nt=False)
        return _context


def close() -> None:
    """Close the shared client (tests that change EPICS_PVA_* between runs)."""
    global _context
    with _lock:
        if _context is not None:
            _context.close()
            _context = None


def error_text(exc: BaseException) -> str:
    """A p4p failure as our error text: a lost channel is plain "disconnected" (the breaker counts it)."""
    name = type(exc).__name__
    if name == "Disconnected":
        return "disconnected"
    if name == "Cancelled":
        return "cancelled"
    text = str(exc) or name
    return f"server error: {text}" if name == "RemoteError" else text


def server_key(name: str) -> str:
    """The circuit-breaker key of a PVA channel.

    p4p does not expose the address of the server that answered a channel, so PVA circuits are keyed
    by the device part of the name instead: `pva:` + the name up to its last ':' (the whole name when
    it has none). PVs of one device live on one server, so a dead server opens its devices' circuits."""
    device, sep, _ = name.rpartition(":")
    return f"pva:{device if sep else name}"
