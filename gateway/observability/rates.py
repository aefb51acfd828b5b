"""Recent request, error and throttle rates for the status page, sampled from the Prometheus counters.

The hot path only increments counters; this module reads them a few times a
minute (and once per status page view), keeps the samples of the last
`window` seconds and derives per-second rates from the oldest and newest.
Nothing here runs per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from prometheus_client.registry import Collector

from gateway.background import in_background
from gateway.observability.metrics import Metrics

Totals = dict[tuple[str, ...], float]
SAMPLE_INTERVAL = 5.0


@dataclass(frozen=True)
class _Sample:
    at: float
    requests: Totals  # (tenant, app, status class) -> count
    upstream: Totals  # (tenant, app, status class) -> count
    throttled: Totals  # (tenant, where) -> count


@dataclass
class AppRates:
    """Per-second rates of one (tenant, app) over the window."""

    requests: float = 0.0
    client_errors: float = 0.0
    server_errors: float = 0.0
    vendor_errors: float = 0.0

    @property
    def error_ratio(self) -> float:
        """Share of requests answered 5xx (the gateway's or the vendor's fault)."""
        return self.server_errors / self.requests if self.requests else 0.0


@dataclass
class Rates:
    seconds: float
    apps: dict[tuple[str, str], AppRates] = field(default_factory=dict)
    throttled: dict[tuple[str, ...], float] = field(default_factory=dict)  # (tenant, where) -> per second


class RateWindow:
    """Samples the request, upstream and throttle counters; answers rates over the last `window` seconds."""

    def __init__(self, metrics: Metrics, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._metrics = metrics
        self._window = window
        self._clock = clock
        self._samples: deque[_Sample] = deque([_Sample(clock(), {}, {}, {})])

    def sample(self) -> None:
        """Read the counters now; drop samples older than the window (keeping one at its edge)."""
        m = self._metrics
        now = self._clock()
        self._samples.append(
            _Sample(
                now,
                _totals(m.requests, ("tenant", "app", "status_class")),
                _totals(m.upstream, ("tenant", "app", "status_class")),
                _totals(m.throttled, ("tenant", "where")),
            )
        )
        while len(self._samples) > 2 and self._samples[1].at <= now - self._window:
            self._samples.popleft()

    def rates(self) -> Rates:
        """Rates between the oldest kept sample and a fresh one."""
        self.sample()
        old, new = self._samples[0], self._samples[-1]
        seconds = max(new.at - old.at, 1e-9)
        result = Rates(seconds=new.at - old.at)
        for (tenant, app, klass), count in new.requests.items():
            rate = (count - old.requests.get((tenant, app, klass), 0.0)) / seconds
            entry = result.apps.setdefault((tenant, app), AppRates())
            entry.requests += rate
            if klass == "4xx":
                entry.client_errors += rate
            elif klass in ("5xx", "error"):
                entry.server_errors += rate
        for (tenant, app, klass), count in new.upstream.items():
            if klass in ("5xx", "error"):
                rate = (count - old.upstream.get((tenant, app, klass), 0.0)) / seconds
                result.apps.setdefault((tenant, app), AppRates()).vendor_errors += rate
        for key, count in new.throttled.items():
            result.throttled[key] = (count - old.throttled.get(key, 0.0)) / seconds
        return result


def _totals(counter: Collector, labels: tuple[str, ...]) -> Totals:
    """Sum a counter's `_total` samples by the given labels."""
    totals: Totals = {}
    for family in counter.collect():
        for sample in family.samples:
            if sample.name.endswith("_total"):
                key = tuple(sample.labels.get(name, "") for name in labels)
                totals[key] = totals.get(key, 0.0) + sample.value
    return totals


@contextlib.asynccontextmanager
async def sample_forever(window: RateWindow, interval: float = SAMPLE_INTERVAL) -> AsyncIterator[None]:
    """Sample `window` every `interval` seconds in the background while the context is open."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            window.sample()

    async with in_background(loop(), "rate-sampler"):
        yield
