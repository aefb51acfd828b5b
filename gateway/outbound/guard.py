"""Everything one app's vendor calls share: retry policy, circuit breaker, the vendor's pause, limits, clock.

Built once per app in the runtime and handed to its UpstreamClient (and to
the client its OAuth auth uses for token requests, so token requests are
limited, trip the same circuit and keep the same vendor pause). Metrics hooks are plain callables so
this module knows nothing of Prometheus.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from gateway.clock import SYSTEM_CLOCK, Clock
from gateway.config import RetryConfig
from gateway.outbound.breaker import Breaker
from gateway.outbound.pause import VendorPause, held_back
from gateway.throttle.admission import OutboundLimiter


@dataclass(frozen=True)
class UpstreamGuard:
    retry: RetryConfig
    breaker: Breaker
    limiter: OutboundLimiter | None = None
    clock: Clock = SYSTEM_CLOCK
    #: Called with a bounded reason (`429`, `502`, `503`, `504`, `timeout`, `connection`) before each resend.
    on_retry: Callable[[str], None] | None = None
    #: Called for each call failed fast, unsent, because the vendor's 429 pause outlasts its deadline.
    on_held_back: Callable[[], None] | None = None
    #: The vendor's back-off window, shared by the app's calls and its token requests.
    pause: VendorPause = field(default_factory=VendorPause)
    #: True for the token client, whose calls happen while a main call signs itself: that call
    #: already holds the concurrency permit and, in half_open, the circuit's one probe.
    nested: bool = False

    def for_token_requests(self) -> UpstreamGuard:
        """The same limits, circuit and pause for calls made while signing another call (OAuth token requests)."""
        return replace(self, nested=True)

    async def wait_out_pause(self, app: str, deadline: float) -> None:
        """Sleep until the vendor's 429 pause ends if that is before `deadline`, else raise VendorThrottled.

        The 429 carries retry_after = the time left in the pause; the call was never sent. The wait has a
        little jitter on top, so the calls held together do not all resume at the same instant.
        """
        clock = self.clock
        left = self.pause.remaining(clock.now())
        wait = left + clock.uniform(0.0, min(self.retry.base_delay, 1.0))
        if clock.now() + wait >= deadline:
            if self.on_held_back is not None:
                self.on_held_back()
            raise held_back(app, left)
        await clock.sleep(wait)


def default_guard(app: str, clock: Clock = SYSTEM_CLOCK) -> UpstreamGuard:
    """Retries and a breaker with the default settings and no outbound limits (for clients built ad hoc)."""
    return UpstreamGuard(retry=RetryConfig(), breaker=Breaker(app, 5, 30.0, clock), clock=clock)
