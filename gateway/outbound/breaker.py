"""A circuit breaker per app: stop calling a vendor that keeps failing, then probe.

    closed    --(`failures` consecutive failures)-->          open
    open      --(`cooldown` seconds pass)-->                   half_open
    half_open --(the one probe succeeds)--> closed; --(it fails)--> open

While open, calls fail fast with CircuitOpen (503, Retry-After = time left
in the cool-down) without touching the vendor. In half_open exactly one
probe is let through; others fail fast until it reports. Failures are
transport failures and 5xx; a 429 is the vendor alive and throttling, which
retries and outbound limits handle, so it neither trips nor resets the circuit.
`state` is read by the metrics collector (gateway/observability/metrics.py).
"""

from __future__ import annotations

import math

from gateway.clock import SYSTEM_CLOCK, Clock
from gateway.outbound.errors import VendorUnavailable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitOpen(VendorUnavailable):
    """The app's circuit is open: the vendor is not called until the cool-down ends."""


class Breaker:
    def __init__(self, app: str, failures: int, cooldown: float, clock: Clock = SYSTEM_CLOCK) -> None:
        self.app = app
        self.threshold = failures
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0
        self._opened_at: float | None = None
        self._probe_started: float | None = None

    @property
    def state(self) -> str:
        """`closed`, `open` or `half_open` (open whose cool-down is over)."""
        if self._opened_at is None:
            return CLOSED
        return HALF_OPEN if self.clock.now() - self._opened_at >= self.cooldown else OPEN

    def before_call(self) -> None:
        """Raise CircuitOpen unless a call may go to the vendor now (claims the probe in half_open)."""
        if self._opened_at is None:
            return
        now = self.clock.now()
        left = self._opened_at + self.cooldown - now
        if left > 0:
            raise CircuitOpen(self._detail(), retry_after=math.ceil(left))
        # A probe whose caller vanished (cancelled) must not hold the circuit half-open forever.
        if self._probe_started is not None and now - self._probe_started < self.cooldown:
            raise CircuitOpen(self._detail("a probe is in flight"), retry_after=1)
        self._probe_started = now

    def check(self) -> None:
        """Raise CircuitOpen while the cool-down runs; never claims the probe (for calls nested in one)."""
        left = self.seconds_open()
        if left > 0:
            raise CircuitOpen(self._detail(), retry_after=math.ceil(left))

    def record_success(self) -> None:
        self.failures = 0
        self._opened_at = None
        self._probe_started = None

    def record_failure(self) -> None:
        self.failures += 1
        if self._probe_started is not None or self.failures >= self.threshold:
            self._opened_at = self.clock.now()
            self._probe_started = None

    def seconds_open(self) -> float:
        """Seconds left in the cool-down (0 when closed or half-open)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.cooldown - self.clock.now())

    def _detail(self, why: str = "") -> str:
        suffix = f" ({why})" if why else ""
        return f"app {self.app!r}: the vendor failed repeatedly; calls are paused for a cool-down{suffix}"
