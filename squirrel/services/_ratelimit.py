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
from dataclasses import dataclass, field

RATE = 20.0  # failed attempts per second an address may keep up
BURST = 50  # failed attempts an address may make at once
MAX_ADDRESSES = 100_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


@dataclass(slots=True, eq=False)
class FailedAttemptLimiter:
    rate: float = RATE
    burst: int = BURST
    max_addresses: int = MAX_ADDRESSES
    clock: Callable[[], float] = time.monotonic
    failures: int = field(default=0, init=False)  # every failed attempt, limited or not
    limited: int = field(default=0, init=False)  # failed attempts answered 429
    # least recently failed first
    _buckets: OrderedDict[str, _Bucket] = field(default_factory=OrderedDict, init=False, repr=False)
    _idle_after: float = field(init=False, repr=False)  # a bucket untouched this long is full again

    def __post_init__(self) -> None:
        self._idle_after = self.burst / self.rate

    def __len__(self) -> int:
        return len(self._buckets)

    def fail(self, address: str) -> int | None:
        """Record one failed attempt; None when within the limit, else the seconds to wait (>= 1)."""
        now = self.clock()
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
