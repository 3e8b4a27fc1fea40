"""Handover: items pushed from other threads reach the loop once each, in chunks, with one wake-up per pass."""

from __future__ import annotations

import asyncio
import threading

from squirrel.pv import Handover


class Item:
    def __init__(self, name: str) -> None:
        self.name = name
        self.queued = False
        self.value = 0


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[tuple[str, int]]] = []
        self.done = asyncio.Event()
        self.want = 0

    def handle(self, taken: list[tuple[str, int]]) -> None:
        self.batches.append(taken)
        if sum(len(b) for b in self.batches) >= self.want:
            self.done.set()


def _handover(rec: Recorder, chunk: int) -> Handover[Item, tuple[str, int]]:
    h: Handover[Item, tuple[str, int]] = Handover(lambda i: (i.name, i.value), rec.handle, chunk)
    h.loop = asyncio.get_running_loop()
    return h


async def test_an_item_pushed_twice_before_the_pass_is_taken_once_with_its_latest_data() -> None:
    rec = Recorder()
    h = _handover(rec, chunk=100)
    a, b = Item("a"), Item("b")
    rec.want = 2
    for value in (1, 2, 3):
        a.value = value
        h.push(a)
    h.push(b)
    assert a.queued and b.queued
    await asyncio.wait_for(rec.done.wait(), 5)
    assert rec.batches == [[("a", 3), ("b", 0)]]
    assert not a.queued and not b.queued


async def test_only_the_first_push_since_the_last_pass_asks_for_a_wake_up() -> None:
    rec = Recorder()
    h = _handover(rec, chunk=100)
    with h.lock:
        assert h.queue_locked(Item("a")) is True
        assert h.queue_locked(Item("b")) is False
        assert h.queue_locked(Item("c")) is False
    rec.want = 3
    h.wake()
    await asyncio.wait_for(rec.done.wait(), 5)
    assert [n for n, _ in rec.batches[0]] == ["a", "b", "c"]
    with h.lock:
        assert h.queue_locked(Item("d")) is True  # the pass is over: the next push wakes again


async def test_a_burst_is_taken_in_chunks_one_pass_after_another() -> None:
    rec = Recorder()
    h = _handover(rec, chunk=2)
    items = [Item(str(i)) for i in range(5)]
    rec.want = 5
    for item in items:
        h.push(item)
    await asyncio.wait_for(rec.done.wait(), 5)
    assert [[n for n, _ in b] for b in rec.batches] == [["0", "1"], ["2", "3"], ["4"]]


async def test_pushes_from_many_threads_all_arrive_once() -> None:
    rec = Recorder()
    h = _handover(rec, chunk=50)
    items = [Item(f"{t}-{i}") for t in range(4) for i in range(100)]
    rec.want = len(items)

    def pusher(part: list[Item]) -> None:
        for item in part:
            h.push(item)

    threads = [threading.Thread(target=pusher, args=(items[t * 100 : (t + 1) * 100],)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    await asyncio.wait_for(rec.done.wait(), 5)
    names = [n for b in rec.batches for n, _ in b]
    assert sorted(names) == sorted(i.name for i in items)  # each exactly once
    assert all(len(b) <= 50 for b in rec.batches)


async def test_clear_drops_what_is_queued_and_frees_the_items() -> None:
    rec = Recorder()
    h = _handover(rec, chunk=10)
    a = Item("a")
    with h.lock:
        h.queue_locked(a)
    h.clear()
    assert not a.queued
    rec.want = 1
    b = Item("b")
    h.push(b)  # no wake-up: one is still scheduled from before the clear
    h.wake()
    await asyncio.wait_for(rec.done.wait(), 5)
    assert [n for batch in rec.batches for n, _ in batch] == ["b"]


def test_a_wake_without_a_loop_or_with_a_closed_one_is_skipped() -> None:
    h: Handover[Item, str] = Handover(lambda i: i.name, lambda taken: None, 10)
    h.push(Item("a"))  # no loop yet: nothing to wake, nothing raised
    loop = asyncio.new_event_loop()
    loop.close()
    h.loop = loop
    h.wake()
