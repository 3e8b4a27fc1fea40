"""One libca batch's bookkeeping without an IOC: counting requests down, waking the loop once, a refused
request giving its reference back, and libca exceptions as error text."""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

from epicscorelibs.ca import cadef

from squirrel.epics._batch import Batch, ca_error, request


async def test_the_event_is_set_once_every_request_completed() -> None:
    batch = Batch(asyncio.get_running_loop())
    batch.issued()
    batch.issued()
    batch.completed()
    batch.check()
    assert not batch.event.is_set() and batch.remaining == 1
    done = threading.Thread(target=batch.completed)  # libca completes requests in its own threads
    done.start()
    done.join()
    await asyncio.wait_for(batch.event.wait(), 5)
    assert batch.remaining == 0


async def test_channels_still_connecting_keep_the_batch_waiting() -> None:
    batch = Batch(asyncio.get_running_loop())
    batch.connecting = 1
    batch.check()
    assert not batch.event.is_set()  # nothing issued yet, but a channel may still connect
    batch.connecting = 0
    batch.check()
    assert batch.event.is_set()


async def test_a_finished_batch_does_not_wake_the_loop() -> None:
    loop = asyncio.get_running_loop()
    batch = Batch(loop)
    batch.issued()
    batch.finished = True  # its waiter has given up (timeout): late completions are only counted
    batch.completed()
    await asyncio.sleep(0)
    assert batch.remaining == 0 and not batch.event.is_set()


def test_completion_after_the_loop_closed_is_harmless() -> None:
    loop = asyncio.new_event_loop()
    batch = Batch(loop)
    batch.issued()
    loop.close()
    batch.completed()  # a libca thread answering after shutdown must not raise
    assert batch.remaining == 0


async def test_a_refused_request_gives_back_its_reference_and_its_count() -> None:
    batch = Batch(asyncio.get_running_loop())
    before = sys.getrefcount(batch)

    def refuse(*args: Any) -> None:
        assert isinstance(args[-1].value, Batch)  # the batch is the request's usr
        raise cadef.CAException(cadef.ECA_TIMEOUT, refuse)

    assert request(batch, refuse, 1, 2) == cadef.ca_message(cadef.ECA_TIMEOUT)
    assert batch.remaining == 0
    await asyncio.wait_for(batch.event.wait(), 5)  # a batch whose requests all failed is done
    assert sys.getrefcount(batch) == before  # no leak: libca will never call back for it


async def test_an_accepted_request_holds_one_reference_until_its_handler_runs() -> None:
    import ctypes

    batch = Batch(asyncio.get_running_loop())
    before = sys.getrefcount(batch)
    seen: list[tuple[int, int]] = []
    assert request(batch, lambda a, b, usr: seen.append((a, b)), 7, 8) is None
    assert seen == [(7, 8)] and batch.remaining == 1
    assert sys.getrefcount(batch) == before + 1  # the handler's: libca holds only a pointer
    ctypes.pythonapi.Py_DecRef(ctypes.py_object(batch))  # what the handler does first
    assert sys.getrefcount(batch) == before


def test_libca_exceptions_become_error_text() -> None:
    class Lost(cadef.Disconnected):  # type: ignore[misc]
        def __init__(self) -> None:  # the real one asks libca for the channel's name
            self.name = "X"

    assert ca_error(Lost()) == "disconnected"
    assert ca_error(cadef.CAException(cadef.ECA_DISCONN, ca_error)) == "disconnected"
    assert ca_error(cadef.CAException(cadef.ECA_TIMEOUT, ca_error)) == cadef.ca_message(cadef.ECA_TIMEOUT)
    assert ca_error(ValueError("bad value")) == "bad value"  # no status: the exception's own text
