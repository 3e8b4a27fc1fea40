"""Bulk Channel Access: one libca request per channel, one shared handler, one event, one deadline per call.

Channels come from the shared pool (squirrel.epics._channels), so a read while the monitor runs finds
them connected. Requests go straight to libca (`ca_array_get_callback` / `ca_array_put_callback`): the
libca-thread handler only copies the payload bytes and counts down; decoding happens in the loop once
the batch is complete. CTRL metadata is read once per connection (or kept live by the monitor) and
reused, so a direct read is normally one DBR_TIME request per channel. A dead IOC costs one timeout
for the whole batch, and PVs behind an open circuit are skipped at once. A read keeps waiting for late
answers, and asks again channels that dropped and came back, until its one deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, Literal

import msgspec
from epicscorelibs.ca import cadef

from squirrel.epics import _values as V
from squirrel.epics._batch import ROUND, Batch, Reply, ca_error, on_get, on_put, request, run_batch
from squirrel.epics._channels import Chan, pool, pools
from squirrel.epics._decoders import DBR_CTRL, DBR_TIME, Decoder, decoder_for
from squirrel.epics._window import ServerWindow, set_default_limit
from squirrel.epics.breaker import BreakerSet
from squirrel.pv import CtrlMeta, PVState, record_batch

Outcome = Literal["written", "timeout", "disconnected", "failed"]
META_MAX_AGE = 60.0  # s: CTRL metadata read by a direct read is reused this long within one connection
RETRY_PAUSE = 0.05  # s between asking a dropped channel and asking it again


class WriteResult(msgspec.Struct, frozen=True, gc=False):  # str fields only: no cycles to collect
    outcome: Outcome
    error: str | None = None


_WRITTEN = WriteResult("written")  # shared: one per write would be 100K objects in a 200K-PV restore


def channel_server(channel: Chan) -> str | None:
    """The CA server host:port libca reported when the channel connected (None when not connected)."""
    return channel.server if channel.connected else None


async def _split(
    addresses: Sequence[str], breakers: BreakerSet | None
) -> tuple[list[str], dict[str, Chan], dict[str, str]]:
    """(unique addresses, address -> leased channel, address -> skip reason); `_release` the channels."""
    unique = list(dict.fromkeys(addresses))
    skipped: dict[str, str] = {}
    wanted = unique
    if breakers is not None:
        wanted, refused = breakers.split_allowed(unique)
        skipped = dict.fromkeys(refused, "circuit open")
    channels = await pool().acquire(wanted)
    return unique, channels, skipped


def set_put_window(limit: int) -> None:
    """At most `limit` puts with completion in flight per CA server (SQUIRREL_CA_PUT_WINDOW; see
    squirrel.epics._window), for every channel pool, open or yet to come."""
    if limit < 1:
        raise ValueError(f"the put window must be at least 1, got {limit}")
    set_default_limit(limit)
    for channel_pool in pools():
        channel_pool.put_window.limit = limit


def _release(channels: dict[str, Chan]) -> None:
    """The batch's leases back: channels nobody else holds are cleared after the pool's grace period.

    Called once the batch has stopped waiting, so a clear that cancels a late request (libca calls
    no callback for it) cannot leave a batch waiting: its timeout has already ended it."""
    if channels:
        pool().release(channels)


def _account(breakers: BreakerSet | None, outcomes: dict[str, tuple[str | None, str | None]]) -> None:
    """One success / failure per server per batch: address -> (server, error or None); a channel that
    never connected has no server of its own, the breakers may know it by address."""
    if breakers is None:
        return
    breakers.learn_many((address, server) for address, (server, _) in outcomes.items())
    server_of = breakers.server_of
    record_batch(breakers, [(server or server_of(address), error) for address, (server, error) in outcomes.items()])


async def read_many(
    addresses: Sequence[str], timeout: float, breakers: BreakerSet | None = None, *, ctrl: bool = True
) -> dict[str, PVState]:
    """TIME value + CTRL metadata of every address; failures come back connected=False with `error` set.

    `timeout` is one deadline for the whole read: late answers are waited for until then, and a channel
    that drops while its request is out is asked again once it reconnects (before the deadline)."""
    unique, channels, skipped = await _split(addresses, breakers)
    deadline = time.monotonic() + timeout
    out: dict[str, PVState] = {}
    servers: dict[str, str | None] = {}
    try:
        todo = [a for a in unique if a not in skipped]
        while True:
            out.update(await _read_round(todo, channels, servers, deadline - time.monotonic(), ctrl))
            todo = [a for a in todo if out[a].error == "disconnected"]
            if not todo or time.monotonic() + RETRY_PAUSE >= deadline:
                break
            await asyncio.sleep(RETRY_PAUSE)  # the pool learns of the drop before the channel is asked again
    finally:
        _release(channels)
    done = time.time()
    result: dict[str, PVState] = {}
    outcomes: dict[str, tuple[str | None, str | None]] = {}
    for address in unique:
        if address in skipped:
            result[address] = PVState(address=address, updated_at=done, error=skipped[address])
            continue
        state = result[address] = out[address]
        outcomes[address] = (servers.get(address), state.error)
    _account(breakers, outcomes)
    return result


async def _read_round(
    addresses: list[str], channels: dict[str, Chan], servers: dict[str, str | None], timeout: float, ctrl: bool
) -> dict[str, PVState]:
    """One batch over `addresses` that waits at most `timeout`; records each channel's server."""
    batch = Batch(asyncio.get_running_loop())
    errors: dict[int, str] = {}  # chid -> why a request could not be issued
    metas: dict[int, CtrlMeta] = {}  # chid -> metadata known without a request
    now = time.time()

    def issue(address: str, chan: Chan) -> None:
        decoder = chan.decoder
        if decoder is None:
            errors[chan.id] = f"unsupported channel type {chan.dbf}"
            return
        error = request(batch, cadef.ca_array_get_callback, decoder.time_code, 0, chan.id, on_get)
        if ctrl and error is None and decoder.ctrl_code is not None:
            meta = chan.fresh_meta(now, META_MAX_AGE)
            if meta is not None:
                metas[chan.id] = meta
            else:
                error = request(batch, cadef.ca_array_get_callback, decoder.ctrl_code, 0, chan.id, on_get)
        if error is not None:
            errors[chan.id] = error

    wanted = {a: channels[a] for a in addresses}
    never = await run_batch(batch, wanted, issue, max(0.0, timeout), round_size=ROUND)
    # Each channel's answers by chid, the answer tuples as the handler made them: a second (CTRL beside
    # TIME) is rare. A list and a new tuple per channel were 400K tracked objects in a 200K-PV read, and
    # the full collections they set off (4-5, 0.3-0.4 s) fell to 0-1 without them.
    got: dict[int, Reply] = {}
    more: dict[int, list[Reply]] = {}
    for answer in list(batch.got):
        if answer[0] in got:
            more.setdefault(answer[0], []).append(answer)
        else:
            got[answer[0]] = answer
    done = time.time()
    out: dict[str, PVState] = {}
    for address, chan in wanted.items():
        state = out[address] = PVState(address=address, updated_at=done)
        server = None if address in never else channel_server(chan)
        servers[address] = server or servers.get(address)
        reply = got.get(chan.id)
        if address in never:
            state.error = "disconnected"
        elif chan.id in errors:
            state.error = errors[chan.id]
        elif reply is None:
            state.error = "timeout"
        else:
            _fill(state, chan, (reply, *more[chan.id]) if chan.id in more else (reply,), metas.get(chan.id), now)
            if state.error is None:
                state.connected = True
                state.server = server
                state.connected_at = done
    return out


def _fill(state: PVState, chan: Chan, replies: tuple[Reply, ...], meta: CtrlMeta | None, now: float) -> None:
    """Decode one channel's replies (TIME, maybe CTRL) into its state; sets `error` when one failed.

    Payloads are decoded by the type they came as (a reconnect mid-batch may have changed the channel's):
    normally the channel's own decoder, picked when it connected."""
    count = chan.count
    time_data: tuple[Decoder, int, bytes] | None = None
    for _, dbr_type, n, status, data in replies:
        if status != cadef.ECA_NORMAL or data is None:
            state.error = "disconnected" if status == cadef.ECA_DISCONN else cadef.ca_message(status)
            return
        try:
            if dbr_type >= DBR_CTRL:
                decoder = _decoder(chan, dbr_type - DBR_CTRL, count)
                meta, _, _, _ = decoder.decode_ctrl(data, n)
                chan.set_meta(meta, now)
            else:
                time_data = (_decoder(chan, dbr_type - DBR_TIME, count), n, data)
        except Exception as exc:
            state.error = f"conversion failed: {exc}"
            return
    if time_data is None:
        state.error = "timeout"
        return
    decoder, n, data = time_data
    try:
        if meta is not None:
            decoder.apply_meta(state, meta)
        decoder.apply_time(state, data, n)
    except Exception as exc:
        state.error = f"conversion failed: {exc}"


def _decoder(chan: Chan, dbf: int, count: int) -> Decoder:
    decoder = chan.decoder
    if decoder is not None and decoder.dbf == dbf:
        return decoder
    decoder = decoder_for(dbf, count)
    if decoder is None:
        raise ValueError(f"unsupported channel type {dbf}")
    return decoder


async def write_many(
    items: Sequence[tuple[str, Any]], timeout: float, wait: bool = True, breakers: BreakerSet | None = None
) -> dict[str, WriteResult]:
    """Put every (address, value); with `wait`, put-with-completion and one timeout for the batch.

    Puts with completion go through the pool's per-server window (squirrel.epics._window): at most
    PUT_WINDOW in flight per IOC, the next sent as answers come."""
    window = pool().put_window
    wanted = dict(items)  # the last value wins for a repeated address
    unique, channels, skipped = await _split(list(wanted), breakers)
    results: dict[str, WriteResult] = {}
    puts = _Puts(wanted, channels, results, window)

    def issue(address: str, chan: Chan) -> None:
        if wait:
            puts.add(address, chan)
            return
        try:
            code, count, data, _ = V.put_buffer(wanted[address], chan.dbf, chan.count)
            cadef.ca_array_put(code, count, chan.id, data)  # libca copies the value before it returns
            results[address] = _WRITTEN
        except ValueError as exc:
            results[address] = WriteResult("failed", str(exc))
        except Exception as exc:
            results[address] = _failed(ca_error(exc))

    try:
        never = await run_batch(puts.batch, channels, issue, timeout)
        return _write_results(puts.batch, unique, channels, skipped, never, results, puts.pending, breakers, timeout)
    finally:
        puts.give_up()
        _release(channels)


class _Puts:
    """One write_many's puts with completion: each server's addresses wait in a list for places in the
    window (this is their Sender), then are in flight until libca answers.

    Values are converted as they are sent, into the buffer libca copies during the call."""

    def __init__(
        self, wanted: dict[str, Any], channels: dict[str, Chan], results: dict[str, WriteResult], window: ServerWindow
    ) -> None:
        self.batch = Batch(asyncio.get_running_loop(), on_answer=self.answered)
        self.wanted = wanted
        self.channels = channels
        self.results = results
        self.window = window
        self.waiting: dict[str, list[str]] = {}  # server -> addresses; those from `sent_upto[server]` wait
        self.sent_upto: dict[str, int] = {}
        self.queued: set[str] = set()  # servers whose window holds this sender
        self.pending: dict[int, str] = {}  # chid -> address of a put awaiting its completion
        self.in_flight: dict[int, str] = {}  # chid -> server whose window place the put holds
        self.seen = 0  # answers already handed back to the window

    def add(self, address: str, chan: Chan) -> None:
        """Queue one put (run_batch's issue): sent at once if its server's window has room."""
        server = chan.server or ""
        addresses = self.waiting.get(server)
        if addresses is None:
            addresses = self.waiting[server] = []
            self.sent_upto[server] = 0
        addresses.append(address)
        self.batch.deferred += 1
        if server not in self.queued:
            self.queued.add(server)
            self.window.submit(server, self)

    def send(self, server: str, room: int) -> tuple[int, bool]:
        """The window's call: send up to `room` of the puts waiting for `server` (none once the batch ended)."""
        addresses, i = self.waiting[server], self.sent_upto[server]
        batch = self.batch
        if batch.finished:  # its waiting puts are dropped: they end as timeouts
            batch.deferred -= len(addresses) - i
            i = len(addresses)
        took = 0
        while i < len(addresses) and took < room:
            address = addresses[i]
            i += 1
            batch.deferred -= 1
            took += self._put(address, server)
        self.sent_upto[server] = i
        finished = i >= len(addresses)
        if finished:
            self.queued.discard(server)
        return took, finished

    def _put(self, address: str, server: str) -> bool:
        chan = self.channels[address]
        try:
            code, count, data, _ = V.put_buffer(self.wanted[address], chan.dbf, chan.count)
        except ValueError as exc:
            self.results[address] = WriteResult("failed", str(exc))
            return False
        error = request(self.batch, cadef.ca_array_put_callback, code, count, chan.id, data, on_put)
        if error is not None:
            self.results[address] = _failed(error)
            return False
        self.pending[chan.id] = address
        self.in_flight[chan.id] = server  # the window's key, even if the channel has moved since
        return True

    def answered(self) -> None:
        """Answers came (in the loop): their places go back to the window, one call per server."""
        got, end = self.batch.got, len(self.batch.got)
        freed: dict[str, int] = {}
        for i in range(self.seen, end):
            server = self.in_flight.pop(got[i][0], None)
            if server is not None:
                freed[server] = freed.get(server, 0) + 1
        self.seen = end
        for server, count in freed.items():
            self.window.done(server, count)
        cadef.ca_flush_io()  # what the window sent meanwhile

    def give_up(self) -> None:
        """The batch ended: places of puts never answered (timed out) go back to the window."""
        freed: dict[str, int] = {}
        for server in self.in_flight.values():
            freed[server] = freed.get(server, 0) + 1
        self.in_flight.clear()
        for server, count in freed.items():
            self.window.done(server, count)


def _write_results(
    batch: Batch,
    unique: list[str],
    channels: dict[str, Chan],
    skipped: dict[str, str],
    never: set[str],
    results: dict[str, WriteResult],
    pending: dict[int, str],
    breakers: BreakerSet | None,
    timeout: float,
) -> dict[str, WriteResult]:
    statuses = {chid: status for chid, _, _, status, _ in list(batch.got)}
    out: dict[str, WriteResult] = {}
    outcomes: dict[str, tuple[str | None, str | None]] = {}
    for address in unique:
        if address in skipped:
            out[address] = WriteResult("disconnected", skipped[address])
            continue
        chan = channels[address]
        server = None if address in never else channel_server(chan)
        if address in results:
            out[address] = results[address]
        elif address in never:
            out[address] = WriteResult("disconnected", "disconnected")
        else:
            status = statuses.get(chan.id) if pending.get(chan.id) == address else None
            if status is None:
                out[address] = WriteResult("timeout", f"no put completion within {timeout:g} s")
            elif status == cadef.ECA_NORMAL:
                out[address] = _WRITTEN
            elif status == cadef.ECA_DISCONN:
                out[address] = WriteResult("disconnected", "disconnected")
            else:
                out[address] = WriteResult("failed", cadef.ca_message(status))
        result = out[address]
        outcomes[address] = (server, None if result.outcome in ("written", "failed") else result.outcome)
    _account(breakers, outcomes)
    return out


def _failed(error: str) -> WriteResult:
    return WriteResult("disconnected" if error == "disconnected" else "failed", error)
