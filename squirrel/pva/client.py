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


_requests: dict[str, Any] = {}


def request(text: str) -> Any:
    """A pvRequest built once and shared by every operation (p4p builds one per call otherwise)."""
    built = _requests.get(text)
    if built is None:
        from p4p.client.raw import Context

        built = _requests[text] = Context.makeRequest(text)
    return built


def get_op(ctxt: Any, name: str, done: Any, pv_request: Any) -> Any:
    """Start one get; `done(value or exception)` runs in a PVXS thread. Returns the op (keep it alive).

    Goes to p4p's operation type directly with a raw handler: the per-call wrapper and pvRequest
    parsing of Context.get cost about as much as the request itself at 50K PVs."""
    from p4p.client.raw import _ClientOperation

    return _ClientOperation(ctxt._ctxt, name, handler=_raw(done), pvRequest=pv_request, get=True, put=False)


def put_op(ctxt: Any, name: str, done: Any, fields: dict[str, Any], pv_request: Any) -> Any:
    """Start one put of `fields` (no get first); `done(None or exception)` runs in a PVXS thread."""
    from p4p.client.raw import _ClientOperation

    def build(value: Any) -> None:
        for field, item in fields.items():
            value[field] = item

    return _ClientOperation(
        ctxt._ctxt, name, handler=_raw(done), builder=build, pvRequest=pv_request, get=False, put=True
    )


def monitor_op(ctxt: Any, name: str, wake: Any, pv_request: Any) -> Any:
    """Subscribe; `wake()` runs in a PVXS thread when the subscription's queue becomes non-empty (it must
    not raise); pop() then yields Values, Disconnected or other exceptions."""
    from p4p.client.raw import Subscription

    return Subscription(ctxt._ctxt, name, nt=ctxt._nt, handler=wake, pvRequest=pv_request)


def _raw(done: Any) -> Any:
    from p4p.client.raw import Cancelled, RemoteError

    def handler(code: int, message: str, value: Any) -> None:
        try:
            if code == 0:
                done(RemoteError(message))
            elif code == 1:
                done(Cancelled())
            elif code == 2:
                done(RuntimeError(f"put builder failed: {value[1]}"))
            else:
                done(value)
        except Exception:
            pass  # never raise into p4p

    return handler


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
