"""The failed-attempt token bucket: per address, refills at its rate, forgets idle addresses."""

from __future__ import annotations

from squirrel.services._ratelimit import FailedAttemptLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_rate_per_address() -> None:
    clock = Clock()
    limiter = FailedAttemptLimiter(rate=20, burst=50, clock=clock)
    assert all(limiter.fail("a") is None for _ in range(50))
    assert limiter.fail("a") == 1  # 51st at once: wait for one token (1/20 s, rounded up to 1 s)
    assert limiter.fail("b") is None  # another address has its own bucket
    clock.now += 0.5  # 10 tokens back
    assert all(limiter.fail("a") is None for _ in range(10))
    assert limiter.fail("a") is not None
    assert limiter.failures == 63 and limiter.limited == 2


def test_sustained_failures_above_the_rate_are_limited_below_it_not() -> None:
    clock = Clock()
    slow = FailedAttemptLimiter(rate=20, burst=50, clock=clock)
    for _ in range(1000):  # 19/s for ~50 s
        clock.now += 1 / 19
        assert slow.fail("a") is None
    fast = FailedAttemptLimiter(rate=20, burst=50, clock=clock)
    outcomes = []
    for _ in range(1000):  # 40/s: about half are refused once the burst is spent
        clock.now += 1 / 40
        outcomes.append(fast.fail("a"))
    assert 400 < sum(o is not None for o in outcomes) < 500


def test_idle_addresses_are_forgotten_and_memory_is_bounded() -> None:
    clock = Clock()
    limiter = FailedAttemptLimiter(rate=20, burst=50, max_addresses=1000, clock=clock)
    for i in range(500):
        limiter.fail(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter) == 500
    clock.now += 50 / 20  # long enough for every bucket to be full again
    limiter.fail("192.0.2.1")
    assert len(limiter) == 1
    for i in range(5000):  # an address flood never holds more than the cap
        limiter.fail(f"flood-{i}")
    assert len(limiter) <= 1000
