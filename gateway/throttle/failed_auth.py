"""Throttling of failed authentication: per (tenant, client IP) and per tenant, on the GCRA store.

A request whose Authorization value the tenant has already accepted in this
process never comes here (gateway/inbound/auth.py remembers accepted values), so an
IdP with a good token keeps working while someone floods the same tenant, or
the same client address, with bad ones. Every other value reserves one
*check* before its token is hashed and compared: a wrong token is a failure,
and a right one is counted once, the first time this process sees it. Over
the limit the token is not checked at all (429 with Retry-After): a guesser
learns nothing from a throttled attempt, so its guesses are limited to the
configured rate. The price: while a tenant is flooded past its limit, a right
token this process has not seen yet (after a restart) is also refused until
the flood falls back under the limit.

Keys are the tenant name as given in the URL (known or not: an unknown
tenant is throttled like a known one, so 429s reveal no names) and the client
IP as the audit records it. In Redis they expire once their bucket is full
again; in the local store (and Redis's fallback) at most
`failed_auth.max_tracked` are kept.

"Slowed": past the burst an attempt waits for its slot up to `max_wait`. Each
waiting attempt holds a coroutine and a connection, so at most `max_delayed`
wait at once in this process; an attempt beyond that is refused at once with
the Retry-After it would have waited. Attackers from many addresses can
therefore hold at most `max_delayed` coroutines, however many they open.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from gateway.clock import Clock
from gateway.config import FailedAuthConfig
from gateway.throttle.admission import Store, Throttled
from gateway.throttle.gcra import Limit

UNKNOWN_CLIENT = "unknown"


class FailedAuthThrottle:
    """Admits checks of not-yet-accepted tokens; raises Throttled (429) past the limits."""

    def __init__(
        self,
        store: Store,
        config: FailedAuthConfig,
        clock: Clock,
        on_throttled: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.on_throttled = on_throttled
        #: Attempts waiting for their slot right now (at most config.max_delayed).
        self.delayed = 0

    async def admit_check(self, tenant: str, client: str | None, label: str) -> None:
        """Reserve one token check for `client` at `tenant`, waiting for it if allowed; raise Throttled (429).

        `label` is the tenant as metrics may name it (a configured tenant, or `unknown`).
        """
        client_limit, tenant_limit = self.config.client, self.config.tenant
        limits = (
            Limit(f"auth:{{{tenant}}}:{client or UNKNOWN_CLIENT}", client_limit.rate, client_limit.burst),
            Limit(f"auth:{{{tenant}}}", tenant_limit.rate, tenant_limit.burst),
        )
        reserved, wait = await self.store.reserve(limits, min(client_limit.max_wait, tenant_limit.max_wait))
        if reserved and wait > 0 and self.delayed >= self.config.max_delayed:
            reserved = False  # the slot stays taken: it was a failed attempt all the same
        if not reserved:
            if self.on_throttled is not None:
                self.on_throttled(label)
            raise Throttled(wait, f"too many failed authentication attempts; retry in {max(1, math.ceil(wait))} s")
        if wait > 0:
            self.delayed += 1
            try:
                await self.clock.sleep(wait)
            finally:
                self.delayed -= 1
