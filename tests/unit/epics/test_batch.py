"""One libca batch's bookkeeping without an IOC: counting requests down, waking the loop once, staying
alive while a request is out (and not longer), and libca exceptions as error text."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import weakref
from typing import Any

from epicscorelibs.ca import cadef

from squirrel.epics._batch import _OUT, Batch, ca_error, request


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


async def test_a_refused_request_gives_back_its_count_and_its_keep_alive() -> None:
    batch = Batch(asyncio.get_running_loop())
    before = sys.getrefcount(batch)

    def refuse(*args: Any) -> None:
        assert isinstance(args[-1].value, Batch)  # the batch is the request's usr
        raise cadef.CAException(cadef.ECA_TIMEOUT, refuse)

    assert request(batch, refuse, 1, 2) == cadef.ca_message(cadef.ECA_TIMEOUT)
    assert batch.remaining == 0
    await asyncio.wait_for(batch.event.wait(), 5)  # a batch whose requests all failed is done
    assert id(batch) not in _OUT and sys.getrefcount(batch) == before  # libca will never call back for it


async def test_an_unanswered_request_keeps_its_batch_alive_until_the_handler_runs() -> None:
    batch = Batch(asyncio.get_running_loop())
    seen: list[Any] = []
    assert request(batch, lambda a, b, usr: seen.append(usr), 7, 8) is None
    assert request(batch, lambda a, b, usr: seen.append(usr), 7, 8) is None
    assert seen == [batch.usr, batch.usr] and seen[0].value is batch  # one pointer for every request
    assert _OUT[id(batch)] is batch and batch.remaining == 2
    alive = weakref.ref(batch)
    seen.clear()  # the py_object pointers hold the batch too
    del batch
    gc.collect()
    late = alive()
    assert late is not None  # the caller let go (e.g. its timeout ended it): a late answer still finds it
    late.completed()
    assert id(late) in _OUT  # one request still out
    late.completed()  # what the handler does last
    assert id(late) not in _OUT
    del late
    await asyncio.sleep(0)  # the wake-up it queued in the loop ran
    gc.collect()
    assert alive() is None  # answered: nothing keeps it


def test_libca_exceptions_become_error_text() -> None:
    class Lost(cadef.Disconnected):  # type: ignore[misc]
        def __init__(self) -> None:  # the real one asks libca for the channel's name
            self.name = "X"

    assert ca_error(Lost()) == "disconnected"
    assert ca_error(cadef.CAException(cadef.ECA_DISCONN, ca_error)) == "disconnected"
    assert ca_error(cadef.CAException(cadef.ECA_TIMEOUT, ca_error)) == cadef.ca_message(cadef.ECA_TIMEOUT)
    assert ca_error(ValueError("bad value")) == "bad value"  # no status: the exception's own text
