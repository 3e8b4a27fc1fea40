"""The monitor's libca handlers and per-address Watch, without an IOC: a handler copies exactly one
payload and queues its watch (a newer value replaces a queued one and is counted as merged), ignores
failed or undecodable replies, never raises into libca; a failing connection handler is counted."""

from __future__ import annotations

import asyncio
import ctypes
from types import SimpleNamespace

from epicscorelibs.ca import cadef, dbr

from squirrel.epics._channels import Chan, ChannelPool
from squirrel.epics._decoders import decoder_for
from squirrel.epics._monitor_watch import Watch, _handle_ctrl, _handle_time
from squirrel.epics.monitor import Monitor
from squirrel.pv import PVCache

DBF_DOUBLE = dbr.DBR_DOUBLE


def _watch(monitor: Monitor, address: str = "W:x") -> Watch:
    chan = Chan(address, ChannelPool(asyncio.get_running_loop()))
    w = Watch(monitor, address, monitor.cache.ensure(address), chan)
    w.decoder = decoder_for(DBF_DOUBLE, 1)
    return w


def _reply(w: Watch, payload: bytes, status: int = cadef.ECA_NORMAL, count: int = 1) -> SimpleNamespace:
    buffer = ctypes.create_string_buffer(payload, len(payload))
    return SimpleNamespace(usr=w, status=status, count=count, raw_dbr=ctypes.addressof(buffer), keep=buffer)


async def test_a_new_watch_has_no_subscription_and_has_heard_nothing() -> None:
    w = _watch(Monitor(PVCache()))
    assert (w.event_id, w.ctrl_id, w.raw, w.ctrl_raw, w.server, w.queued, w.heard) == (
        None, None, None, None, None, False, False,
    )  # fmt: skip
    assert w.state.address == "W:x"


async def test_the_time_handler_copies_one_payload_and_a_newer_one_merges() -> None:
    monitor = Monitor(PVCache())
    w = _watch(monitor)
    assert w.decoder is not None
    size = w.decoder.time_offset + w.decoder.element_size
    first = bytes(range(size)) + b"\xff" * 16  # libca's buffer is longer than the payload
    _handle_time(_reply(w, first))
    assert w.raw == first[:size] and w.queued and monitor.merged == 0
    second = bytes(reversed(range(size)))
    _handle_time(_reply(w, second))
    assert w.raw == second and monitor.merged == 1  # the older, unapplied value was replaced
    assert w.ctrl_raw is None


async def test_the_ctrl_handler_keeps_the_metadata_payload_apart() -> None:
    monitor = Monitor(PVCache())
    w = _watch(monitor)
    assert w.decoder is not None
    size = w.decoder.ctrl_nbytes(1)
    payload = b"\x01" * size + b"\x02" * 8
    _handle_ctrl(_reply(w, payload))
    assert w.ctrl_raw == payload[:size] and w.raw is None and w.queued and monitor.merged == 0


async def test_failed_and_undecodable_replies_are_ignored() -> None:
    monitor = Monitor(PVCache())
    w = _watch(monitor)
    _handle_time(_reply(w, b"\x00" * 64, status=cadef.ECA_DISCONN))
    _handle_ctrl(_reply(w, b"\x00" * 256, status=cadef.ECA_DISCONN))
    w.decoder = None  # a type Squirrel does not read
    _handle_time(_reply(w, b"\x00" * 64))
    _handle_ctrl(_reply(w, b"\x00" * 256))
    assert (w.raw, w.ctrl_raw, w.queued, monitor.merged) == (None, None, False, 0)


async def test_handlers_never_raise_into_libca() -> None:
    broken = SimpleNamespace(usr=None, status=cadef.ECA_NORMAL, count=1, raw_dbr=0)
    _handle_time(broken)  # no watch behind the reply: swallowed
    _handle_ctrl(broken)


class _FailingMonitor(Monitor):
    def _connection(self, w: Watch, connected: bool) -> None:
        raise RuntimeError("bug in the connection handler")


async def test_a_failing_connection_handler_is_counted_not_raised() -> None:
    monitor = _FailingMonitor(PVCache())
    w = _watch(monitor)
    w.on_connection(w.chan, True)
    w.on_connection(w.chan, False)
    assert monitor.errors == 2


async def test_connection_events_reach_the_monitor() -> None:
    monitor = Monitor(PVCache())
    w = _watch(monitor)
    w.on_connection(w.chan, True)  # not (or no longer) watched by this monitor: ignored
    assert monitor.errors == 0 and not monitor.cache.get("W:x").connected  # type: ignore[union-attr]
    monitor._watches[w.address] = w
    w.on_connection(w.chan, True)  # its channel has no decoder: an unsupported type, counted
    assert monitor.errors == 1
