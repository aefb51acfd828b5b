"""Limits shared by every replica: the GCRA of gcra.py as one atomic Lua script in Redis.

One EVALSHA per reservation (the tenant and app limits of an admission go
together). Time is Redis's own (TIME), so replicas with skewed clocks agree.
Keys carry a hash tag per tenant so a multi-key call stays in one Redis
Cluster slot, and expire once their bucket is full again.

Redis down or slower than `timeout`: the reservation is served by a local
store enforcing this replica's share (limit / replicas), the switch is
logged once, each fallback decision is counted, and Redis is tried again
after RECHECK_SECONDS. A Redis failure never fails a request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.clock import SYSTEM_CLOCK, Clock
from gateway.throttle.gcra import Decision, Limit, LocalStore

log = structlog.get_logger("scim_gateway.throttle")

#: Limit sets whose keys and shares are memoised; per-client limits (failed logins) come and go, so the
#: memo is cleared when full rather than grown.
MAX_MEMOISED = 4096
#: While Redis is failing, how long to serve from the local share before trying it again.
RECHECK_SECONDS = 1.0

# KEYS: one per limit. ARGV[1]: max_wait; then per key: interval, tolerance (seconds).
# Returns {1, wait} (reserved: sleep wait first) or {0, wait} (refused: a slot frees in wait).
GCRA_LUA = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local max_wait = tonumber(ARGV[1])
local wait = 0
local tats = {}
for i, key in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', key)) or now
  tats[i] = tat
  local w = tat - tonumber(ARGV[2 * i + 1]) - now
  if w > wait then wait = w end
end
if wait > max_wait + 0.000001 then
  return {0, string.format('%.6f', wait)}
end
local at = now + wait
for i, key in ipairs(KEYS) do
  local tat = tats[i]
  if tat < at then tat = at end
  tat = tat + tonumber(ARGV[2 * i])
  local ttl = math.ceil((tat - now) * 1000) + 1000
  redis.call('SET', key, string.format('%.6f', tat), 'PX', ttl)
end
return {1, string.format('%.6f', wait)}
"""


def redis_client(url: str, timeout: float) -> Redis:
    """A client that gives up after `timeout` and never retries by itself (the fallback is the retry)."""
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        retry_on_timeout=False,
        health_check_interval=0,
    )


class RedisStore:
    """Reservations in Redis, degrading to this replica's share of each limit when Redis fails."""

    def __init__(
        self,
        client: Redis,
        *,
        timeout: float,
        replicas: int,
        key_prefix: str = "scim-gateway",
        clock: Clock = SYSTEM_CLOCK,
        on_fallback: Callable[[str], None] | None = None,
        fallback: LocalStore | None = None,
    ) -> None:
        self.client = client
        self.timeout = timeout
        self.replicas = replicas
        self.prefix = key_prefix
        self.clock = clock
        self.on_fallback = on_fallback
        self.fallback = fallback if fallback is not None else LocalStore(clock)
        self.degraded = False
        self._reason = "error"
        self._retry_at = 0.0
        self._script = client.register_script(GCRA_LUA)
        self._shares: dict[tuple[Limit, ...], tuple[Limit, ...]] = {}
        self._calls: dict[tuple[Limit, ...], tuple[list[str], list[float]]] = {}

    async def reserve(self, limits: Sequence[Limit], max_wait: float) -> Decision:
        """Reserve in Redis; on a Redis error or timeout, in the local share (never raises for Redis)."""
        key = tuple(limits)
        if not self.degraded or self.clock.now() >= self._retry_at:
            reason = await self._try_redis(key, max_wait)
            if isinstance(reason, tuple):
                return reason
            self._degrade(reason)
        if self.on_fallback is not None:
            self.on_fallback(self._reason)
        return await self.fallback.reserve(self._share(key), max_wait)

    async def _try_redis(self, limits: tuple[Limit, ...], max_wait: float) -> Decision | str:
        keys, args = self._call(limits)
        try:
            async with asyncio.timeout(self.timeout):
                reserved, wait = await self._script(keys=keys, args=[max_wait, *args])
        except (TimeoutError, RedisTimeoutError):  # ours or the client's own socket timeout, whichever came first
            return "timeout"
        except (RedisError, OSError) as exc:
            return type(exc).__name__
        if self.degraded:
            self.degraded = False
            log.info("throttle_redis_recovered")
        return bool(int(reserved)), float(wait)

    def _degrade(self, reason: str) -> None:
        self._reason = "timeout" if reason == "timeout" else "error"
        self._retry_at = self.clock.now() + RECHECK_SECONDS
        if not self.degraded:
            self.degraded = True
            log.warning(
                "throttle_redis_unavailable",
                reason=reason,
                fallback=f"local share of each limit (1/{self.replicas})",
                recheck_seconds=RECHECK_SECONDS,
            )

    def _call(self, limits: tuple[Limit, ...]) -> tuple[list[str], list[float]]:
        found = self._calls.get(limits)
        if found is None:
            if len(self._calls) >= MAX_MEMOISED:
                self._calls.clear()
            keys = [f"{self.prefix}:{limit.key}" for limit in limits]
            args = [value for limit in limits for value in (limit.interval, limit.tolerance)]
            found = self._calls[limits] = (keys, args)
        return found

    def _share(self, limits: tuple[Limit, ...]) -> tuple[Limit, ...]:
        found = self._shares.get(limits)
        if found is None:
            if len(self._shares) >= MAX_MEMOISED:
                self._shares.clear()
            found = self._shares[limits] = tuple(limit.share(self.replicas) for limit in limits)
        return found

    async def close(self) -> None:
        await self.client.aclose()
