"""Time and chance, injectable: every wait and every jitter in the gateway goes through a Clock.

Tests pass a FakeClock whose `sleep` advances its own time, so retries,
backoff and circuit cool-downs are tested without real waiting.
"""

from __future__ import annotations

import asyncio
import random
import time


class Clock:
    """The real clock: monotonic time for deadlines, wall time for HTTP dates, a seeded-or-not RNG."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng or random.Random()

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)

    def uniform(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high)


class FakeClock(Clock):
    """A clock for tests: `sleep` returns at once and moves time forward; every sleep is recorded."""

    def __init__(self, start: float = 1000.0, wall: float = 1_700_000_000.0, seed: int = 0) -> None:
        super().__init__(random.Random(seed))
        self._now = start
        self._wall_offset = wall - start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._now + self._wall_offset

    def advance(self, seconds: float) -> None:
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._now += max(0.0, seconds)
        await asyncio.sleep(0)


SYSTEM_CLOCK = Clock()
