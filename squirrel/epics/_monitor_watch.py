"""The monitor's per-address state and its libca-thread handlers (they run outside the event loop).

The handlers only copy the payload bytes and hand them to the monitor's queue (Monitor._push); they
never raise into libca.
"""

from __future__ import annotations

import ctypes
import time
from typing import TYPE_CHECKING, Any

import structlog
from epicscorelibs.ca import cadef

from squirrel.epics._channels import Chan, pin_thread_state
from squirrel.epics._decoders import Decoder
from squirrel.pv import PVState

if TYPE_CHECKING:
    from squirrel.epics.monitor import Monitor

log = structlog.get_logger(__name__)


class Watch:
    """One monitored address: its channel, its two subscriptions, and the latest payloads not yet applied."""

    __slots__ = (
        "address",
        "chan",
        "ctrl_id",
        "ctrl_raw",
        "decoder",
        "event_id",
        "heard",
        "monitor",
        "queued",
        "raw",
        "server",
        "since",
        "state",
    )

    def __init__(self, monitor: Monitor, address: str, state: PVState, chan: Chan) -> None:
        self.monitor = monitor
        self.address = address
        self.state = state
        self.chan = chan
        self.event_id: int | None = None  # DBR_TIME subscription (value, alarm)
        self.ctrl_id: int | None = None  # DBR_CTRL subscription (property changes; first value at once)
        self.decoder: Decoder | None = None  # of the type subscribed (the channel's when it connected)
        self.server: str | None = None
        self.raw: bytes | None = None  # guarded by the monitor's lock
        self.ctrl_raw: bytes | None = None
        self.queued = False
        self.since = time.monotonic()  # when the monitor subscribed it (warm-up is counted from here)
        self.heard = False  # its first value arrived (since this monitor started)

    def on_connection(self, chan: Chan, connected: bool) -> None:  # the pool calls it, in the loop
        try:
            self.monitor._connection(self, connected)
        except Exception:
            self.monitor.errors += 1
            log.exception("monitor connection handler failed", address=self.address)


def _handle_time(args: Any) -> None:  # libca thread: copy the payload, hand it over, nothing more
    pin_thread_state()
    try:
        w: Watch = args.usr
        d = w.decoder
        if args.status == cadef.ECA_NORMAL and d is not None:
            w.monitor._push(w, ctypes.string_at(args.raw_dbr, d.time_offset + args.count * d.element_size), False)
    except Exception:
        pass


def _handle_ctrl(args: Any) -> None:  # libca thread
    pin_thread_state()
    try:
        w: Watch = args.usr
        decoder = w.decoder
        if args.status == cadef.ECA_NORMAL and decoder is not None:
            w.monitor._push(w, ctypes.string_at(args.raw_dbr, decoder.ctrl_nbytes(args.count)), True)
    except Exception:
        pass


_on_time: Any = cadef.event_handler(_handle_time)
_on_ctrl: Any = cadef.event_handler(_handle_ctrl)
