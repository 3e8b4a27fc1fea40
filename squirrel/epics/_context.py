"""The process's one Channel Access context, and joining threads to it.

libca keeps its context per thread: a thread that makes a context-taking call (ca_create_channel,
ca_flush_io, ...) without one attached silently gets a new, separate context. So one context with
preemptive callbacks (libca calls back from its own threads; nothing polls ca_pend_event) is made once
per process, and every thread that calls libca attaches to it first.
"""

from __future__ import annotations

import atexit
import ctypes
import threading

from epicscorelibs.ca import cadef

# epicscorelibs binds ca_context_create/destroy but not these three: our own function pointers
# (item access makes new ones; cadef.libca's shared attributes are patched by aioca when imported).
_current = cadef.libca["ca_current_context"]
_current.argtypes = []
_current.restype = ctypes.c_void_p
_attach = cadef.libca["ca_attach_context"]
_attach.argtypes = [ctypes.c_void_p]
_attach.errcheck = cadef.expect_ECA_NORMAL
_detach = cadef.libca["ca_detach_context"]
_detach.argtypes = []
_detach.restype = None

_lock = threading.Lock()
_context: int | None = None  # the CA context pointer
_ours = False  # made here (destroyed at exit) rather than adopted from the thread that had one


def ensure_context() -> int:
    """The process's CA context, made on the first call (or adopted: a library in this thread made one)."""
    global _context, _ours
    context = _context
    if context is not None:
        return context
    with _lock:
        if _context is None:
            current = _current()
            if not current:
                cadef.ca_context_create(1)  # 1: preemptive callbacks
                current = _current()
                _ours = True
                atexit.register(_teardown)
            _context = int(current)
        return _context


def attach_thread() -> None:
    """Join this thread to the process's CA context before any libca call from it."""
    context = ensure_context()
    if _current() != context:
        _attach(context)


def _teardown() -> None:  # pragma: no cover - interpreter exit
    """Destroy the context we made: no libca thread may call back into a finalising interpreter."""
    global _context, _ours
    if not _ours or _context is None:
        return
    try:
        if _current() != _context:
            if _current():
                _detach()
            _attach(_context)
        cadef.ca_context_destroy()
        _detach()
    except Exception:
        pass  # exiting anyway
    _context, _ours = None, False
