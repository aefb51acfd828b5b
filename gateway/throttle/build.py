"""Build the limit store and each app's admission and upstream guard from the config (in lifespan)."""

from __future__ import annotations

from gateway.clock import SYSTEM_CLOCK, Clock
from gateway.config import AppConfig, TenantConfig, ThrottleConfig
from gateway.observability.metrics import Metrics
from gateway.outbound.breaker import Breaker
from gateway.outbound.guard import UpstreamGuard
from gateway.throttle.admission import Admission, OutboundLimiter, Store, inbound_limits
from gateway.throttle.failed_auth import FailedAuthThrottle
from gateway.throttle.gcra import BoundedLocalStore, LocalStore


def build_store(
    config: ThrottleConfig, metrics: Metrics, clock: Clock = SYSTEM_CLOCK, configured_keys: int = 0
) -> Store:
    """The in-process store, or the Redis one (which falls back to this replica's share).

    `configured_keys`: how many limits the config holds. Redis's fallback also holds the failed-auth
    buckets, so it is bounded: room for the configured limits twice over plus `failed_auth.max_tracked`.
    """
    if config.backend == "local":
        return LocalStore(clock)
    from gateway.throttle.redis_store import RedisStore, redis_client

    assert config.redis.url is not None  # checked when the config was parsed
    client = redis_client(config.redis.url.get_secret_value(), config.redis.timeout)
    return RedisStore(
        client,
        timeout=config.redis.timeout,
        replicas=config.replicas,
        key_prefix=config.redis.key_prefix,
        clock=clock,
        on_fallback=metrics.count_throttle_fallback,
        fallback=BoundedLocalStore(clock, 2 * configured_keys + config.failed_auth.max_tracked),
    )


def build_admission(
    store: Store,
    tenant: str,
    tenant_config: TenantConfig,
    app: str,
    app_config: AppConfig,
    metrics: Metrics,
    clock: Clock = SYSTEM_CLOCK,
) -> Admission:
    limits, max_wait = inbound_limits(tenant, app, tenant_config.limits, app_config.limits)
    return Admission(store, limits, max_wait, clock, lambda: metrics.count_throttled(tenant, "inbound"))


def build_guard(
    store: Store, tenant: str, app: str, app_config: AppConfig, metrics: Metrics, clock: Clock = SYSTEM_CLOCK
) -> UpstreamGuard:
    limiter = None
    if app_config.upstream.rate is not None or app_config.upstream.concurrency is not None:
        limiter = OutboundLimiter(store, tenant, app, app_config.upstream, clock)
        limiter.on_throttled = lambda: metrics.count_throttled(tenant, "outbound")
    breaker = Breaker(f"{tenant}/{app}", app_config.breaker.failures, app_config.breaker.cooldown, clock)

    def on_retry(reason: str) -> None:
        metrics.count_retry(tenant, app, app_config.vendor, reason)

    def on_held_back() -> None:  # not sent: the vendor's own 429 window still runs
        metrics.count_throttled(tenant, "vendor")

    return UpstreamGuard(
        retry=app_config.retry,
        breaker=breaker,
        limiter=limiter,
        clock=clock,
        on_retry=on_retry,
        on_held_back=on_held_back,
    )


def build_failed_auth(
    store: Store, config: ThrottleConfig, metrics: Metrics, clock: Clock = SYSTEM_CLOCK
) -> FailedAuthThrottle:
    """The failed-authentication throttle: in Redis beside the other limits, else in a bounded local store.

    Its keys (tenant names as given, client IPs) are not bounded by the config: the local store that
    holds them is bounded, and so is the Redis store's fallback (build_store).
    """
    failures = config.failed_auth
    own = BoundedLocalStore(clock, failures.max_tracked) if config.backend == "local" else store
    return FailedAuthThrottle(own, failures, clock, lambda tenant: metrics.count_throttled(tenant, "auth"))
