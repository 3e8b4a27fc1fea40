"""Bulk PVA reads and writes: one p4p operation per PV, one shared countdown, one loop wake-up, one timeout.

PVXS worker threads run the completion callbacks; each only stores its result and counts down, and the
last one wakes the event loop once. Decoding happens in the loop after the batch. A dead server costs
one timeout for the whole batch (its PVs' operations are cancelled then), and PVs behind an open
circuit are skipped at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from squirrel.addresses import pva_name
from squirrel.pv import record_batch, wait_batch
from squirrel.pva import client
from squirrel.pva._ports import Breakers, Entry
from squirrel.pva._values import Kind, apply, builder, mark_unsupported

PUT_REQUEST = "field()record[block=true]"  # completion: the reply comes once the server has processed it
_kinds: dict[str, Kind] = {}  # key -> structure of the last Value read or monitored (for puts)


def remember_kind(key: str, kind: Kind) -> None:
    _kinds[key] = kind


class _Batch:
    """Results of one bulk call, filled from PVXS threads; the loop is woken once, when all are in."""

    def __init__(self, loop: asyncio.AbstractEventLoop, count: int) -> None:
        self.loop = loop
        self.event = asyncio.Event()
        self.lock = threading.Lock()
        self.remaining = count
        self.finished = False  # set once the batch stops waiting: later replies (and cancels) are ignored
        self.results: dict[str, Any] = {}
        if count <= 0:
            self.event.set()

    def handler(self, key: str) -> Callable[[Any], None]:
        def done(result: Any) -> None:  # a PVXS thread; never raises into p4p
            if self.finished:
                return
            self.results[key] = result
            with self.lock:
                self.remaining -= 1
                last = self.remaining == 0
            if last and not self.loop.is_closed():
                with contextlib.suppress(RuntimeError):
                    self.loop.call_soon_threadsafe(self.event.set)

        return done

    async def wait(self, ops: list[Any], timeout: float) -> None:
        try:
            await wait_batch(self.event, timeout)
        finally:
            self.finished = True
            for op in ops:  # cancels what has not completed (a late reply then goes nowhere)
                with contextlib.suppress(Exception):
                    op.close()


def _split(keys: Sequence[str], breakers: Breakers | None) -> tuple[list[str], list[str]]:
    unique = list(dict.fromkeys(keys))
    if breakers is None:
        return unique, []
    return breakers.split_allowed(unique)


def _account(breakers: Breakers | None, outcomes: dict[str, str | None]) -> None:
    """One success / failure per circuit per batch: key -> error or None."""
    if breakers is None:
        return
    servers = {key: client.server_key(pva_name(key)) for key in outcomes}
    breakers.learn_many(servers.items())
    record_batch(breakers, [(servers[key], error) for key, error in outcomes.items()])


async def read_many(
    keys: Sequence[str], timeout: float, new_state: Callable[[str], Entry], breakers: Breakers | None = None
) -> dict[str, Entry]:
    """Value + alarm + time + metadata of every pva:// key; failures come back connected=False with `error`."""
    allowed, skipped = _split(keys, breakers)
    out: dict[str, Entry] = {}
    try:
        ctxt = client.context()
    except client.PvaUnavailable as exc:
        for key in [*allowed, *skipped]:
            out[key] = new_state(key)
            out[key].error = str(exc)
        return out
    batch = _Batch(asyncio.get_running_loop(), len(allowed))
    pv_request = client.request("field()")
    ops = [client.get_op(ctxt, pva_name(key), batch.handler(key), pv_request) for key in allowed]
    await batch.wait(ops, timeout)
    done = time.time()
    outcomes: dict[str, str | None] = {}
    for key in skipped:
        out[key] = state = new_state(key)
        state.error, state.updated_at = "circuit open", done
    for key in allowed:
        out[key] = state = new_state(key)
        state.updated_at = done
        result = batch.results.get(key)
        if result is None:
            state.error = "timeout"
        elif isinstance(result, BaseException):
            state.error = client.error_text(result)
        else:
            kind = Kind(result)
            if kind.unsupported:
                mark_unsupported(state, kind)
            else:
                try:
                    apply(state, result, kind)
                    remember_kind(key, kind)
                    state.connected, state.connected_at = True, done
                    state.server = client.server_key(pva_name(key))
                except Exception as exc:
                    state.error = f"conversion failed: {exc}"
        outcomes[key] = state.error
    _account(breakers, outcomes)
    return out


async def write_many(
    items: Sequence[tuple[str, Any]], timeout: float, wait: bool = True, breakers: Breakers | None = None
) -> dict[str, tuple[str, str | None]]:
    """Put every (key, value): key -> (outcome written|timeout|disconnected|failed, error).

    The server's reply is the completion (p4p's put waits for it); without `wait` the reply is still
    awaited for the error but processing is not (`record[block=false]`)."""
    wanted = dict(items)  # the last value wins for a repeated key
    allowed, skipped = _split(list(wanted), breakers)
    out: dict[str, tuple[str, str | None]] = {k: ("disconnected", "circuit open") for k in skipped}
    try:
        ctxt = client.context()
    except client.PvaUnavailable as exc:
        return {**out, **{k: ("failed", str(exc)) for k in allowed}}
    to_send: list[tuple[str, dict[str, Any]]] = []
    for key in allowed:
        try:
            to_send.append((key, builder(wanted[key], _kinds.get(key))))
        except ValueError as exc:
            out[key] = ("failed", str(exc))
    pv_request = client.request(PUT_REQUEST if wait else "field()record[block=false]")
    batch = _Batch(asyncio.get_running_loop(), len(to_send))
    ops = [client.put_op(ctxt, pva_name(key), batch.handler(key), fields, pv_request) for key, fields in to_send]
    await batch.wait(ops, timeout)
    outcomes: dict[str, str | None] = {}
    for key, _ in to_send:
        result = batch.results.get(key, "timeout")
        if result is None:
            out[key] = ("written", None)
        elif result == "timeout":
            out[key] = ("timeout", f"no put completion within {timeout:g} s")
        else:
            text = client.error_text(result)
            out[key] = ("disconnected" if text == "disconnected" else "failed", text)
        outcomes[key] = None if out[key][0] in ("written", "failed") else out[key][0]
    _account(breakers, outcomes)
    return out
