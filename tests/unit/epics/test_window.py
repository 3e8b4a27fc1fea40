"""The per-server put window: at most `limit` in flight per server, the rest sent in order as answers
come, a refused send not holding a place, and servers independent of each other."""

from __future__ import annotations

from collections.abc import Callable

from squirrel.epics._window import PUT_WINDOW, ServerWindow


def _sender(log: list[str], name: str, accepted: bool = True) -> Callable[[], bool]:
    def send() -> bool:
        log.append(name)
        return accepted

    return send


def test_sends_up_to_the_limit_then_queues_in_order() -> None:
    window, log = ServerWindow(2), list[str]()
    for name in "abcd":
        window.submit("ioc1:5064", _sender(log, name))
    assert log == ["a", "b"] and window.in_flight("ioc1:5064") == 2 and window.waiting("ioc1:5064") == 2
    window.done("ioc1:5064")
    assert log == ["a", "b", "c"] and window.in_flight("ioc1:5064") == 2
    window.done("ioc1:5064", 2)
    assert log == ["a", "b", "c", "d"] and window.in_flight("ioc1:5064") == 1 and window.waiting("ioc1:5064") == 0
    window.done("ioc1:5064")
    assert window.in_flight("ioc1:5064") == 0


def test_a_refused_send_holds_no_place_and_the_next_one_goes() -> None:
    window, log = ServerWindow(1), list[str]()
    window.submit("s", _sender(log, "a"))
    window.submit("s", _sender(log, "refused", accepted=False))  # e.g. its batch ended meanwhile
    window.submit("s", _sender(log, "c"))
    window.done("s")
    assert log == ["a", "refused", "c"] and window.in_flight("s") == 1 and window.waiting("s") == 0


def test_servers_have_their_own_windows_and_a_newcomer_waits_behind_the_queue() -> None:
    window, log = ServerWindow(1), list[str]()
    window.submit("s1", _sender(log, "a"))
    window.submit("s2", _sender(log, "b"))  # another server: its own place
    window.submit("s1", _sender(log, "c"))
    assert log == ["a", "b"]
    window.done("s1", 5)  # more answers than in flight (a batch giving up its places): never negative
    assert log == ["a", "b", "c"] and window.in_flight("s1") == 1


def test_the_default_leaves_most_of_an_iocs_callback_queue_free() -> None:
    assert ServerWindow().limit == PUT_WINDOW <= 2000 // 4  # EPICS callbackQueueSize defaults to 2000
