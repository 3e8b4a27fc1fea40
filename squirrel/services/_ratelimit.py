"""Failed API-key attempts per client address: a token bucket each, and counters for /metrics.

Only failures take tokens, so a client with a good key is never limited. A bucket left alone refills
completely after `burst / rate` seconds and is then the same as a new one: such idle buckets are dropped,
which bounds memory by the addresses that failed recently (plus a hard cap against address floods).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

RATE = 20.0  # failed attempts per second an address may keep up
BURST = 50  # failed attempts an address may make at once
MAX_ADDRESSES = 100_000


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class FailedAttemptLimiter:
    def __init__(
        self,
        rate: float = RATE,
        burst: int = BURST,
        max_addresses: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.max_addresses = max_addresses
        self._clock = clock
        self._idle_after = burst / rate  # a bucket untouched this long is full again
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()  # least recently failed first
        self.failures = 0  # every failed attempt, limited or not
        self.limited = 0  # failed attempts answered 429

    def __len__(self) -> int:
        return len(self._buckets)

    def fail(self, address: str) -> int | None:
        """Record one failed attempt; None when within the limit, else the seconds to wait (>= 1)."""
        now = self._clock()
        self.failures += 1
        self._evict_idle(now)
        bucket = self._buckets.pop(address, None)
        if bucket is None:
            bucket = _Bucket(float(self.burst), now)
        else:
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
        self._buckets[address] = bucket  # most recently failed last
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        self.limited += 1
        return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))

    def _evict_idle(self, now: float) -> None:
        buckets = self._buckets
        while buckets:
            address, oldest = next(iter(buckets.items()))
            if now - oldest.stamp < self._idle_after and len(buckets) < self.max_addresses:
                return
            del buckets[address]
