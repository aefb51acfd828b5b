"""GCRA with reservations, pure, plus the in-process store.

For a limit of `rate`/s with bursts of `burst`: emission interval
T = 1/rate, tolerance tau = (burst - 1) * T; each key keeps its theoretical
arrival time (TAT). A request at `now` conforms when now >= TAT - tau. To
absorb small bursts a request may instead *reserve* the first conforming
instant when it is at most `max_wait` away, and sleep until then. Several
limits (tenant and app) are checked and reserved together: the wait is the
longest among them, so one admission never consumes one limit but not the other.
The same arithmetic runs in Redis (redis_store.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from gateway.clock import SYSTEM_CLOCK, Clock


@dataclass(frozen=True, slots=True)
class Limit:
    """`rate` requests per second, bursts of up to `burst`, under `key` (unique per limited thing)."""

    key: str
    rate: float
    burst: int
    #: T and tau, fixed at construction: every admission reads them.
    interval: float = field(init=False, repr=False, compare=False)
    tolerance: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "interval", 1.0 / self.rate)
        object.__setattr__(self, "tolerance", (self.burst - 1) / self.rate)

    def share(self, replicas: int) -> Limit:
        """This replica's part of the limit when replicas cannot coordinate."""
        return Limit(self.key, self.rate / replicas, max(1, math.floor(self.burst / replicas)))


#: (reserved, seconds): reserved -> sleep `seconds` first; refused -> `seconds` until a slot frees.
Decision = tuple[bool, float]
#: Float slack (seconds): a sum of intervals must not miss its instant by rounding.
EPSILON = 1e-9


def reserve(tats: dict[str, float], limits: Sequence[Limit], now: float, max_wait: float) -> Decision:
    """Reserve one slot in every limit within `max_wait`, updating `tats`; or refuse and change nothing."""
    # Comparisons rather than max(): this runs for every request and vendor call.
    wait = 0.0
    for limit in limits:
        tat = tats.get(limit.key)
        if tat is not None and tat - limit.tolerance - now > wait:
            wait = tat - limit.tolerance - now
    if wait > max_wait + EPSILON:
        return False, wait
    at = now + wait
    for limit in limits:
        tat = tats.get(limit.key, at)
        tats[limit.key] = (tat if tat > at else at) + limit.interval
    return True, wait


class LocalStore:
    """Limits held in this process (no I/O); keys are bounded by the config, so is the dict."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
        self._tats: dict[str, float] = {}

    async def reserve(self, limits: Sequence[Limit], max_wait: float) -> Decision:
        return reserve(self._tats, limits, self.clock.now(), max_wait)

    def reserve_now(self, limits: Sequence[Limit], max_wait: float) -> Decision:
        """`reserve` without a coroutine: this store never does I/O, so admission calls it directly."""
        return reserve(self._tats, limits, self.clock.now(), max_wait)

    async def close(self) -> None:
        return None

    def tracks(self, key: str) -> bool:
        """Whether the store holds a bucket for `key` (an absent key is a full bucket)."""
        return key in self._tats

    def __len__(self) -> int:
        """How many buckets the store holds: what it costs in memory."""
        return len(self._tats)


class BoundedLocalStore(LocalStore):
    """A LocalStore for keys the config does not bound (failed logins per client IP): at most `max_keys`.

    When full, keys whose bucket is full again (TAT passed: the same as absent) are dropped; if that
    does not free half, the keys with the earliest TAT go too, so the buckets under most pressure
    (the ones still refusing) are the last forgotten. Each sweep frees at least half, so its cost
    spreads over the insertions that filled it.
    """

    def __init__(self, clock: Clock = SYSTEM_CLOCK, max_keys: int = 100_000) -> None:
        super().__init__(clock)
        self.max_keys = max_keys

    async def reserve(self, limits: Sequence[Limit], max_wait: float) -> Decision:
        return self.reserve_now(limits, max_wait)

    def reserve_now(self, limits: Sequence[Limit], max_wait: float) -> Decision:
        now = self.clock.now()
        decision = reserve(self._tats, limits, now, max_wait)
        if len(self._tats) > self.max_keys:
            self._sweep(now)
        return decision

    def _sweep(self, now: float) -> None:
        live = {key: tat for key, tat in self._tats.items() if tat > now}
        keep = self.max_keys // 2
        if len(live) > keep:
            live = dict(sorted(live.items(), key=lambda item: item[1])[-keep:])
        self._tats = live
