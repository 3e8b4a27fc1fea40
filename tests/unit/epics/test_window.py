"""The per-server put window: at most `limit` in flight per server, the rest sent in order as answers
come, a refused send not holding a place, senders queued in turn, and servers independent of each other."""

from __future__ import annotations

from squirrel.epics._window import PUT_WINDOW, ServerWindow


class Sender:
    """Requests named by letters; those in `refused` are not taken by libca."""

    def __init__(self, log: list[str], names: str, refused: str = "") -> None:
        self.log, self.names, self.refused = log, list(names), refused
        self.rooms: list[int] = []

    def send(self, server: str, room: int) -> tuple[int, bool]:
        self.rooms.append(room)
        took = 0
        while self.names and took < room:
            name = self.names.pop(0)
            self.log.append(name)
            took += name not in self.refused
        return took, not self.names


def test_sends_up_to_the_limit_then_the_rest_in_order_as_answers_come() -> None:
    window, log = ServerWindow(2), list[str]()
    sender = Sender(log, "abcd")
    window.submit("ioc1:5064", sender)
    assert log == ["a", "b"] and window.in_flight("ioc1:5064") == 2 and window.waiting("ioc1:5064") == 1
    window.done("ioc1:5064")
    assert log == ["a", "b", "c"] and window.in_flight("ioc1:5064") == 2
    window.done("ioc1:5064", 2)
    assert log == ["a", "b", "c", "d"] and window.in_flight("ioc1:5064") == 1 and window.waiting("ioc1:5064") == 0
    window.done("ioc1:5064")
    assert window.in_flight("ioc1:5064") == 0
    assert sender.rooms == [2, 1, 2]  # asked for as many as there was room for, never more


def test_a_refused_send_holds_no_place_and_the_next_one_goes() -> None:
    window, log = ServerWindow(1), list[str]()
    window.submit("s", Sender(log, "a"))
    window.submit("s", Sender(log, "xc", refused="x"))  # e.g. its channel dropped meanwhile
    assert log == ["a"] and window.waiting("s") == 1
    window.done("s")
    assert log == ["a", "x", "c"] and window.in_flight("s") == 1 and window.waiting("s") == 0


def test_senders_wait_in_turn_behind_those_queued_before_them() -> None:
    window, log = ServerWindow(2), list[str]()
    first, second = Sender(log, "abc"), Sender(log, "de")
    window.submit("s", first)
    window.submit("s", second)  # the window is full and `first` still waits: `second` queues behind it
    assert log == ["a", "b"] and window.waiting("s") == 2
    window.done("s", 2)
    assert log == ["a", "b", "c", "d"] and window.in_flight("s") == 2 and window.waiting("s") == 1
    window.done("s", 2)
    assert log == ["a", "b", "c", "d", "e"] and window.in_flight("s") == 1 and window.waiting("s") == 0


def test_servers_have_their_own_windows_and_answers_never_go_below_zero() -> None:
    window, log = ServerWindow(1), list[str]()
    window.submit("s1", Sender(log, "a"))
    window.submit("s2", Sender(log, "b"))  # another server: its own place
    window.submit("s1", Sender(log, "c"))
    assert log == ["a", "b"]
    window.done("s1", 5)  # more answers than in flight (a batch giving up its places): never negative
    assert log == ["a", "b", "c"] and window.in_flight("s1") == 1
    window.done("s1")
    window.done("s2")
    assert window.in_flight("s1") == window.in_flight("s2") == 0


def test_the_default_leaves_most_of_an_iocs_callback_queue_free() -> None:
    assert ServerWindow().limit == PUT_WINDOW <= 2000 // 4  # EPICS callbackQueueSize defaults to 2000
