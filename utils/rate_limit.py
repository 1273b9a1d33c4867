"""Token buckets for requests-per-minute and tokens-per-minute limits, shared by threads.

    limiter = RateLimiter(rpm=500, tpm=200_000)
    limiter.acquire(tokens=estimate)      # blocks until both buckets allow the request
    ...request...
    limiter.settle(estimate, actual)      # correct the token bucket with the real usage
"""
from __future__ import annotations

import threading
import time
from typing import Callable


class TokenBucket:
    """``rate`` units per second, bursts up to ``capacity`` (default: one second's worth, at least 1).

    A request larger than the capacity is let through once the bucket is full and leaves it
    in debt, so a limit smaller than one request slows the batch instead of deadlocking it.
    """

    def __init__(self, per_minute: float, capacity: float | None = None, clock: Callable[[], float] = time.monotonic):
        if per_minute <= 0:
            raise ValueError(f"rate must be > 0 per minute, got {per_minute}")
        self.rate = per_minute / 60.0
        self.capacity = capacity if capacity is not None else max(1.0, self.rate)
        self.level = self.capacity
        self._clock = clock
        self._t = clock()

    def _refill(self) -> None:
        now = self._clock()
        self.level = min(self.capacity, self.level + (now - self._t) * self.rate)
        self._t = now

    def wait_time(self, amount: float) -> float:
        """Seconds until ``amount`` can be taken (0 = now). Call under the owner's lock."""
        self._refill()
        need = min(amount, self.capacity)
        return 0.0 if self.level >= need else (need - self.level) / self.rate

    def take(self, amount: float) -> None:
        self.level -= amount

    def give_back(self, amount: float) -> None:
        self._refill()
        self.level = min(self.capacity, self.level + amount)


class RateLimiter:
    """Both limits at once; ``None`` means unlimited. Thread-safe."""

    def __init__(self, rpm: float | None = None, tpm: float | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.requests = TokenBucket(rpm, clock=clock) if rpm else None
        # A token budget may burst to one minute's share / 60, or a whole request when that is more.
        self.tokens = TokenBucket(tpm, clock=clock) if tpm else None
        self._sleep = sleep
        self._lock = threading.Lock()
        self.waited_s = 0.0

    @property
    def active(self) -> bool:
        return bool(self.requests or self.tokens)

    def acquire(self, tokens: float = 0.0) -> None:
        if not self.active:
            return
        while True:
            with self._lock:
                wait = max(self.requests.wait_time(1) if self.requests else 0.0,
                           self.tokens.wait_time(tokens) if self.tokens else 0.0)
                if wait <= 0:
                    if self.requests:
                        self.requests.take(1)
                    if self.tokens:
                        self.tokens.take(tokens)
                    return
                self.waited_s += wait
            self._sleep(wait)

    def settle(self, estimated: float, actual: float | None) -> None:
        """After a request: refund (or charge) the difference between estimate and real usage."""
        if self.tokens is None or actual is None:
            return
        with self._lock:
            if actual < estimated:
                self.tokens.give_back(estimated - actual)
            else:
                self.tokens.take(actual - estimated)


def estimate_tokens(text: str, max_tokens: int) -> int:
    """Upper-ish bound of a request's tokens: ~4 characters per prompt token plus the completion budget."""
    return len(text) // 4 + 1 + max_tokens
