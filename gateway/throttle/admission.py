"""Inbound admission (429 with Retry-After) and the outbound per-vendor limiter.

Both reserve through the gateway's store (local or Redis). Inbound: a
request over its tenant's (and app's) limit waits up to `max_wait`, never
past the request deadline, then is refused with 429 and a Retry-After of
when a slot frees (RFC 6585 section 4). Outbound: a vendor call waits for a
slot in the app's vendor budget and a concurrency permit, both bounded by
the request deadline; when the budget cannot be met in time the caller gets
429 with Retry-After, and the vendor never sees more than its configured rate.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Protocol

from scim2_models import SCIMException

from gateway.clock import Clock
from gateway.config import LimitConfig, UpstreamConfig
from gateway.outbound.errors import VendorThrottled
from gateway.throttle.gcra import Decision, Limit


class Store(Protocol):
    async def reserve(self, limits: tuple[Limit, ...], max_wait: float) -> Decision: ...

    async def close(self) -> None: ...


class Throttled(SCIMException):
    """429 Too Many Requests (RFC 6585 section 4); rendered with `Retry-After` in whole seconds."""

    status = 429
    _default_detail = "too many requests; retry after the time given in Retry-After"

    def __init__(self, retry_after: float, detail: str | None = None) -> None:
        super().__init__(detail=detail)
        self.retry_after = max(1, math.ceil(retry_after))


class OutboundThrottled(VendorThrottled):
    """The gateway's own budget for a vendor cannot serve this call before its deadline: 429 with Retry-After.

    429 like a vendor's own throttling, not 503: IdPs reschedule a 429 after Retry-After, while a 503 counts
    towards Entra's quarantine of the app.
    """


class Admission:
    """Admits the inbound requests of one app of one tenant."""

    def __init__(
        self,
        store: Store,
        limits: tuple[Limit, ...],
        max_wait: float,
        clock: Clock,
        on_throttled: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.limits = limits
        self.max_wait = max_wait
        self.clock = clock
        self.on_throttled = on_throttled
        self._reserve_now = _reserve_now(store)

    async def admit(self, deadline: float | None = None) -> None:
        """Return once the request may proceed (after waiting at most max_wait); raise Throttled (429).

        `deadline` (monotonic, this admission's clock) is the request's: no wait runs past it.
        """
        if not self.limits:
            return
        budget = _within_deadline(self.max_wait, deadline, self.clock)
        reserve_now = self._reserve_now
        if reserve_now is not None:
            reserved, wait = reserve_now(self.limits, budget)
        else:
            reserved, wait = await self.store.reserve(self.limits, budget)
        if not reserved:
            if self.on_throttled is not None:
                self.on_throttled()
            raise Throttled(wait, f"request rate over this tenant's or app's limit; retry in {math.ceil(wait)} s")
        if wait > 0:
            await self.clock.sleep(wait)


def inbound_limits(
    tenant: str, app: str, tenant_limit: LimitConfig | None, app_limit: LimitConfig | None
) -> tuple[tuple[Limit, ...], float]:
    """The limits an app's inbound requests reserve together, and the longest they may wait."""
    limits: list[Limit] = []
    waits: list[float] = []
    if tenant_limit is not None:
        limits.append(Limit(f"in:{{{tenant}}}", tenant_limit.rate, tenant_limit.burst))
        waits.append(tenant_limit.max_wait)
    if app_limit is not None:
        limits.append(Limit(f"in:{{{tenant}}}:{app}", app_limit.rate, app_limit.burst))
        waits.append(app_limit.max_wait)
    return tuple(limits), min(waits, default=0.0)


class OutboundLimiter:
    """The vendor budget of one app: a rate limit and a concurrency cap, each optional."""

    def __init__(self, store: Store, tenant: str, app: str, config: UpstreamConfig, clock: Clock) -> None:
        self.store = store
        self.app = f"{tenant}/{app}"
        self.clock = clock
        self.limits = () if config.rate is None else (Limit(f"out:{{{tenant}}}:{app}", config.rate, config.burst),)
        self.permits = None if config.concurrency is None else asyncio.Semaphore(config.concurrency)
        self.on_throttled: Callable[[], None] | None = None
        self._reserve_now = _reserve_now(store)

    async def wait_for_slot(self, deadline: float) -> None:
        """Wait for a slot in the vendor's rate budget; raise OutboundThrottled if none comes before `deadline`."""
        if not self.limits:
            return
        budget = deadline - self.clock.now()
        if budget < 0.0:
            budget = 0.0
        reserve_now = self._reserve_now
        if reserve_now is not None:
            reserved, wait = reserve_now(self.limits, budget)
        else:
            reserved, wait = await self.store.reserve(self.limits, budget)
        if not reserved:
            if self.on_throttled is not None:
                self.on_throttled()
            detail = f"app {self.app!r}: the vendor's request budget is used up until after this request's deadline"
            raise OutboundThrottled(detail, retry_after=math.ceil(wait))
        if wait > 0:
            await self.clock.sleep(wait)

    async def acquire_permit(self, deadline: float) -> bool:
        """Take a concurrency permit before `deadline` (True if one was taken; release it after the call).

        Waiters are served first come, first served (asyncio.Semaphore: a free permit is not taken past a
        waiter); one that gives up at its deadline takes nothing.
        """
        permits = self.permits
        if permits is None:
            return False
        if not permits.locked():
            await permits.acquire()  # free: taken without waiting, so no timer is armed
            return True
        try:
            async with asyncio.timeout(max(0.0, deadline - self.clock.now())):
                await permits.acquire()
        except TimeoutError:
            if self.on_throttled is not None:
                self.on_throttled()
            detail = f"app {self.app!r}: too many calls to the vendor in flight until after this request's deadline"
            raise OutboundThrottled(detail, retry_after=1) from None
        return True

    def release_permit(self) -> None:
        if self.permits is not None:
            self.permits.release()


def _reserve_now(store: Store) -> Callable[[tuple[Limit, ...], float], Decision] | None:
    """The store's synchronous reserve, if it has one (the in-process store: no I/O, so no coroutine)."""
    return getattr(store, "reserve_now", None)


def _within_deadline(max_wait: float, deadline: float | None, clock: Clock) -> float:
    """`max_wait`, cut to what is left before `deadline` (never below 0)."""
    if deadline is None:
        return max_wait
    return max(0.0, min(max_wait, deadline - clock.now()))
