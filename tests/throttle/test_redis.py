"""The Redis backend: one limit shared by three gateway processes; fallback when Redis is down or slow."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import structlog
import yaml
from redis.asyncio import Redis

from gateway.clock import FakeClock
from gateway.inbound.auth import hash_token
from gateway.throttle.gcra import Limit
from gateway.throttle.redis_store import RECHECK_SECONDS, RedisStore, redis_client
from tests.processes import free_port, gateway_process
from tests.resilience.harness import TOKENS, app_config, gateway, gateway_config, metric_value, scim_client, simulator
from tests.throttle.redis_server import redis_server

SCIM_GATEWAY = Path(sys.executable).with_name("scim-gateway")
#: A big burst and a small rate: three processes without a shared limit would admit at least 3 * BURST.
RATE, BURST, REQUESTS = 5, 60, 300


def _config_file(directory: Path, scim_url: str, token: str, prefix: str) -> Path:
    config = {
        "allow_literal_secrets": True,
        "throttle": {
            # A Redis call slower than this falls back to a local share: generous, so a loaded machine does not.
            "redis": {"url": "env:SCIM_GATEWAY_REDIS_URL", "timeout": 2.0, "key_prefix": prefix},
            "backend": "redis",
            "replicas": 3,
        },
        # Three processes share this file: metrics on each one's own (free) main port.
        "observability": {
            "audit": {"file": os.devnull},
            "health_check_interval": 3600,
            "metrics_on_main_port": True,
            "metrics_port": None,
        },
        "tenants": {
            "acme": {
                "tokens": [{"name": "load", "sha256": hash_token(TOKENS["acme"])}],
                "limits": {"rate": RATE, "burst": BURST, "max_wait": 0},
                "apps": {
                    "invicti": {
                        "vendor": "invicti",
                        "base_url": scim_url,
                        "credentials": {"token": token},
                        "allow_insecure_url": True,
                    }
                },
            }
        },
    }
    path = directory / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@contextlib.asynccontextmanager
async def _gateways(config: Path, redis_url: str, count: int) -> AsyncIterator[list[str]]:
    """`count` real `scim-gateway serve` processes sharing `redis_url`, all ready."""
    env = {**os.environ, "SCIM_GATEWAY_REDIS_URL": redis_url}
    async with contextlib.AsyncExitStack() as stack:
        running = [await stack.enter_async_context(gateway_process(config, env=env)) for _ in range(count)]
        yield [process.url for process in running]


async def _load(urls: list[str], requests: int, workers_per_url: int) -> dict[int, int]:
    """Send `requests` GETs spread evenly over the gateways, `workers_per_url` at a time each; status -> count."""
    counts: dict[int, int] = {}
    headers = {"Authorization": f"Bearer {TOKENS['acme']}"}
    per_worker = requests // (len(urls) * workers_per_url)

    async def worker(session: aiohttp.ClientSession, url: str) -> None:
        target = url + "/tenants/acme/apps/invicti/scim/v2/Users?count=1"
        for _ in range(per_worker):
            async with session.get(target, headers=headers) as response:
                await response.read()
                counts[response.status] = counts.get(response.status, 0) + 1

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.gather(*(worker(session, url) for url in urls for _ in range(workers_per_url)))
    return counts


async def test_three_processes_share_one_tenant_limit(tmp_path: Path) -> None:
    """What is asserted follows from GCRA alone, whatever the machine's speed.

    The key is fresh, so the first BURST requests are admitted wherever they land; after that one more
    per 1/RATE seconds. Every admission happens between the load's start and end, so over `elapsed`
    seconds the three processes together admit at most BURST + RATE * elapsed (+1 for the instant the
    window opens on). Each process sees 100 requests, so three unshared limits would admit at least
    3 * BURST = 180.
    """
    with redis_server(tmp_path) as redis:
        async with simulator() as sim:
            config = _config_file(tmp_path, sim.scim_url, sim.token, f"t-{uuid.uuid4().hex[:8]}")
            async with _gateways(config, redis.url, 3) as urls:
                await sim.settle(gateways=3)
                started = time.monotonic()
                counts = await _load(urls, REQUESTS, workers_per_url=5)
                elapsed = time.monotonic() - started
                admitted = counts.get(200, 0)
                ceiling = BURST + RATE * elapsed + 1
                print(f"admitted {admitted} of {sum(counts.values())} in {elapsed:.2f} s (at most {ceiling:.1f})")
                assert set(counts) <= {200, 429}, counts
                assert sum(counts.values()) == REQUESTS
                assert BURST <= admitted <= ceiling, (admitted, elapsed)
                # Each admitted request reached the vendor once; refused ones never did.
                assert len(sim.requests("GET", "/Users")) == admitted
                async with aiohttp.ClientSession() as session:
                    for url in urls:
                        async with session.get(url + "/metrics") as response:
                            assert "scim_gateway_throttle_fallbacks_total{" not in await response.text()


def _redis_throttle(url: str, timeout: float = 0.05, replicas: int = 2) -> dict[str, object]:
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    os.environ["TEST_THROTTLE_REDIS_URL"] = url
    return {
        "backend": "redis",
        "redis": {"url": "env:TEST_THROTTLE_REDIS_URL", "timeout": timeout, "key_prefix": prefix},
        "replicas": replicas,
    }


async def test_redis_unreachable_falls_back_to_the_local_share_and_never_500s() -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    async with simulator() as sim:
        config = gateway_config(
            {"acme": {"limits": {"rate": 10, "burst": 10, "max_wait": 0}, "apps": {"invicti": app_config(sim)}}},
            throttle=_redis_throttle(dead, replicas=2),
        )
        with structlog.testing.capture_logs() as logs:
            async with gateway(config) as server, scim_client(server, "acme", "invicti") as client:
                started = time.monotonic()
                codes = [(await client.get("/ServiceProviderConfig")).status_code for _ in range(20)]
                elapsed = time.monotonic() - started
                fallbacks = await metric_value(server, "scim_gateway_throttle_fallbacks_total")
    assert set(codes) <= {200, 429}
    # This replica's share: burst 10/2 = 5, rate 5/s.
    assert 5 <= codes.count(200) <= 5 + 5 * elapsed + 1, codes
    assert fallbacks == 20 + 1  # every admission, and the first check of the (then unseen) token
    unavailable = [entry for entry in logs if entry["event"] == "throttle_redis_unavailable"]
    assert len(unavailable) == 1 and unavailable[0]["log_level"] == "warning"


async def test_redis_killed_mid_test_then_requests_keep_being_served(tmp_path: Path) -> None:
    with redis_server(tmp_path) as redis:
        async with simulator() as sim:
            config = gateway_config(
                {"acme": {"limits": {"rate": 1000, "burst": 1000}, "apps": {"invicti": app_config(sim)}}},
                throttle=_redis_throttle(redis.url, replicas=2),
            )
            async with gateway(config) as server, scim_client(server, "acme", "invicti") as client:
                before = [(await client.get("/Users", params={"count": "1"})).status_code for _ in range(5)]
                assert before == [200] * 5
                assert await metric_value(server, "scim_gateway_throttle_fallbacks_total") == 0
                keys = await _keys(redis.url)
                assert any(key.endswith(b"in:{acme}") for key in keys), keys
                redis.stop()
                started = time.monotonic()
                after = [(await client.get("/Users", params={"count": "1"})).status_code for _ in range(20)]
                elapsed = time.monotonic() - started
                assert after == [200] * 20
                assert elapsed < 5
                assert await metric_value(server, "scim_gateway_throttle_fallbacks_total", reason="error") == 20


async def test_slow_redis_times_out_quickly_and_falls_back(tmp_path: Path) -> None:
    with redis_server(tmp_path) as redis:
        async with simulator() as sim:
            config = gateway_config(
                {"acme": {"limits": {"rate": 1000, "burst": 1000}, "apps": {"invicti": app_config(sim)}}},
                throttle=_redis_throttle(redis.url, timeout=0.05),
            )
            async with gateway(config) as server, scim_client(server, "acme", "invicti") as client:
                assert (await client.get("/ServiceProviderConfig")).status_code == 200
                async with _stalled(redis.url, 3.0) as sleeping:
                    answer = await client.get("/ServiceProviderConfig")
                    answered_during_the_stall = not sleeping.done()
                assert answer.status_code == 200
                assert answered_during_the_stall  # the 0.05 s Redis timeout, not Redis's 3 s stall
                assert await metric_value(server, "scim_gateway_throttle_fallbacks_total", reason="timeout") == 1


async def test_redis_is_asked_again_once_the_recheck_interval_has_passed_on_the_store_s_clock(tmp_path: Path) -> None:
    """After a failure the store keeps to its local share for RECHECK_SECONDS of its clock, then uses Redis again."""
    with redis_server(tmp_path) as redis:
        clock = FakeClock()
        fallbacks: list[str] = []
        store = RedisStore(
            redis_client(redis.url, 0.05),
            timeout=0.05,
            replicas=2,
            key_prefix=f"t-{uuid.uuid4().hex[:8]}",
            clock=clock,
            on_fallback=fallbacks.append,
        )
        limits = (Limit("in:{acme}", rate=1000, burst=1000),)
        try:
            assert (await store.reserve(limits, 0.0))[0] and fallbacks == []
            async with _stalled(redis.url, 0.5):
                assert (await store.reserve(limits, 0.0))[0]  # the 0.05 s timeout: this replica's share answers
            assert fallbacks == ["timeout"] and store.degraded
            clock.advance(RECHECK_SECONDS - 0.001)  # Redis answers again, but the interval has not passed
            assert (await store.reserve(limits, 0.0))[0]
            assert fallbacks == ["timeout", "timeout"]
            clock.advance(0.001)
            assert (await store.reserve(limits, 0.0))[0]  # asked again, on a fresh connection
            assert fallbacks == ["timeout", "timeout"] and not store.degraded
        finally:
            await store.close()


@contextlib.asynccontextmanager
async def _stalled(url: str, seconds: float) -> AsyncIterator[asyncio.Task[object]]:
    """Redis stalled by DEBUG SLEEP for `seconds` inside the block; on exit, Redis answers again."""
    blocker = Redis.from_url(url)
    # redis-py leaves execute_command untyped; DEBUG SLEEP has no typed wrapper.
    sleeping = asyncio.create_task(blocker.execute_command("DEBUG", "SLEEP", str(seconds)))  # type: ignore[no-untyped-call]
    try:
        await _until_blocked(url)
        yield sleeping
    finally:
        await sleeping
        await blocker.aclose()


async def _until_blocked(url: str) -> None:
    """Return once Redis stops answering (DEBUG SLEEP has started), rather than guessing how long that takes."""
    probe = Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                await asyncio.wait_for(probe.ping(), 0.2)
            except TimeoutError:
                return
        raise AssertionError("Redis never blocked")
    finally:
        await probe.aclose()


async def _keys(url: str) -> list[bytes]:
    client = Redis.from_url(url)
    try:
        return [key if isinstance(key, bytes) else key.encode() for key in await client.keys("*")]
    finally:
        await client.aclose()
