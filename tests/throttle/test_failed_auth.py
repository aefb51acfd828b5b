"""Failed authentication is throttled, over loopback, on an injected clock: per client and per tenant.

The gateway is served for real; only its failed-auth throttle is rebuilt on a
FakeClock (build_failed_auth's `clock`), so time moves only when a test says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis

from gateway.app import create_app
from gateway.clock import FakeClock
from gateway.config import GatewayConfig
from gateway.inbound.auth import hash_token
from gateway.inbound.serving import RunningServer, serving
from gateway.runtime import Runtime
from gateway.throttle.build import build_failed_auth
from tests.resilience.harness import (
    TEST_OBSERVABILITY,
    TOKENS,
    app_config,
    gateway,
    gateway_config,
    metric_value,
    simulator,
)
from tests.throttle.redis_server import redis_server

USERS = "/tenants/{tenant}/apps/invicti/scim/v2/ServiceProviderConfig"
SECOND_TOKEN = "acme-second-token"


@contextlib.asynccontextmanager
async def served(config: GatewayConfig, clock: Any) -> AsyncIterator[tuple[RunningServer, Runtime]]:
    app = create_app(config)
    async with serving(app) as server:
        runtime: Runtime = app.state.runtime
        runtime.failed_auth = build_failed_auth(runtime.throttle, config.throttle, runtime.metrics, clock)
        yield server, runtime


def _config(sim: Any, failed_auth: dict[str, Any], audit: Path | None = None) -> GatewayConfig:
    """Tenant acme with its test token and a second one no request has used yet."""
    tokens = [
        {"name": "test", "sha256": hash_token(TOKENS["acme"])},
        {"name": "second", "sha256": hash_token(SECOND_TOKEN)},
    ]
    return gateway_config(
        {"acme": {"tokens": tokens, "apps": {"invicti": app_config(sim)}}},
        throttle={"failed_auth": failed_auth},
        observability={**TEST_OBSERVABILITY, "audit": {"file": str(audit) if audit else os.devnull}},
    )


async def _get(client: httpx.AsyncClient, token: str, tenant: str = "acme", ip: str = "203.0.113.7") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": ip}
    return await client.get(USERS.format(tenant=tenant), headers=headers)


async def test_bad_tokens_from_one_client_get_429_while_a_good_token_keeps_working(tmp_path: Path) -> None:
    clock = FakeClock()
    audit = tmp_path / "audit.jsonl"
    limits = {"client": {"rate": 1, "burst": 3, "max_wait": 0}, "tenant": {"rate": 100, "burst": 100}}
    async with (
        simulator() as sim,
        served(_config(sim, limits, audit), clock) as (server, _),
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        # The IdP's token, accepted before the flood (its first check counted at the IdP's address).
        assert (await _get(client, TOKENS["acme"], ip="192.0.2.1")).status_code == 200
        codes = [(await _get(client, "wrong")).status_code for _ in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        refused = await _get(client, "wrong")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        assert refused.json()["detail"].startswith("too many failed authentication attempts")
        # A token the tenant already accepted keeps working, from the same client, during the flood.
        assert (await _get(client, TOKENS["acme"])).status_code == 200
        # A token not seen yet is not even checked while its client is over the limit: no oracle.
        assert (await _get(client, SECOND_TOKEN)).status_code == 429
        # Another client of the same tenant is not affected.
        assert (await _get(client, "wrong", ip="198.51.100.9")).status_code == 401
        assert (await _get(client, SECOND_TOKEN, ip="198.51.100.9")).status_code == 200
        clock.advance(1.0)  # one slot frees per second
        assert [(await _get(client, "wrong")).status_code for _ in range(2)] == [401, 429]
        assert await metric_value(server, "scim_gateway_throttled_requests_total", where="auth") == 5
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    outcomes = [(r["status"], r["outcome"], r["client_ip"]) for r in records if r["status"] in (401, 429)]
    assert outcomes[:5] == [(401, "denied", "203.0.113.7")] * 3 + [(429, "throttled", "203.0.113.7")] * 2


async def test_bad_tokens_from_many_clients_are_throttled_per_tenant_and_unknown_names_alike() -> None:
    clock = FakeClock()
    limits = {"client": {"rate": 100, "burst": 100}, "tenant": {"rate": 1, "burst": 4, "max_wait": 0}}
    async with (
        simulator() as sim,
        served(_config(sim, limits), clock) as (server, _),
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        assert (await _get(client, TOKENS["acme"])).status_code == 200
        clock.advance(1.0)  # the check of that first sight of the token is paid back
        answers = {}
        for tenant in ("acme", "nosuch"):
            answers[tenant] = [
                (await _get(client, "wrong", tenant=tenant, ip=f"192.0.2.{index}")).status_code for index in range(6)
            ]
        assert answers["acme"] == [401] * 4 + [429] * 2
        assert answers["nosuch"] == answers["acme"]  # the throttle reveals no more than the 401 does
        assert (await _get(client, TOKENS["acme"], ip="192.0.2.200")).status_code == 200


async def test_failures_past_the_burst_are_slowed_to_the_rate() -> None:
    clock = FakeClock()
    limits = {"client": {"rate": 1, "burst": 1, "max_wait": 2}, "tenant": {"rate": 100, "burst": 100, "max_wait": 2}}
    async with (
        simulator() as sim,
        served(_config(sim, limits), clock) as (server, _),
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        # One after the other: each waits for its slot (1 s apart), so a serial guesser runs at the rate.
        codes = [(await _get(client, "wrong")).status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        assert clock.sleeps == [1.0, 1.0]


class HeldClock(FakeClock):
    """Time stands still; every sleep waits until the test releases it, so waiting attempts can be counted."""

    def __init__(self, expected: int) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.all_waiting = asyncio.Event()
        self.expected = expected

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if len(self.sleeps) == self.expected:
            self.all_waiting.set()
        await self.release.wait()


async def test_at_most_max_delayed_attempts_wait_at_once_the_rest_are_refused_at_once() -> None:
    clock = HeldClock(expected=3)
    limits = {
        "client": {"rate": 1, "burst": 1, "max_wait": 30},
        "tenant": {"rate": 1000, "burst": 1000, "max_wait": 30},
        "max_delayed": 3,
    }
    async with (
        simulator() as sim,
        served(_config(sim, limits), clock) as (server, runtime),
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        assert (await _get(client, "wrong")).status_code == 401  # the burst
        held = [asyncio.create_task(_get(client, "wrong", ip="203.0.113.7")) for _ in range(3)]
        await asyncio.wait_for(clock.all_waiting.wait(), 10)
        refused = [await _get(client, "wrong") for _ in range(5)]
        assert [answer.status_code for answer in refused] == [429] * 5
        assert runtime.failed_auth.delayed == 3
        clock.release.set()
        assert [(await task).status_code for task in held] == [401] * 3
        assert runtime.failed_auth.delayed == 0


async def test_with_redis_failures_are_counted_in_redis_under_expiring_keys(tmp_path: Path) -> None:
    limits = {"client": {"rate": 1, "burst": 2, "max_wait": 0}, "tenant": {"rate": 100, "burst": 100}}
    with redis_server(tmp_path) as redis:
        os.environ["TEST_FAILED_AUTH_REDIS_URL"] = redis.url
        throttle = {
            "backend": "redis",
            "redis": {"url": "env:TEST_FAILED_AUTH_REDIS_URL", "key_prefix": "fa"},
            "failed_auth": limits,
        }
        async with simulator() as sim:
            config = gateway_config({"acme": {"apps": {"invicti": app_config(sim)}}}, throttle=throttle)
            async with gateway(config) as server, httpx.AsyncClient(base_url=server.url) as client:
                codes = [(await _get(client, "wrong")).status_code for _ in range(4)]
                assert codes == [401, 401, 429, 429]
                assert await metric_value(server, "scim_gateway_throttle_fallbacks_total") == 0
        async with Redis.from_url(redis.url) as admin:
            keys = sorted(key.decode() for key in await admin.keys("fa:auth:*"))
            assert keys == ["fa:auth:{acme}", "fa:auth:{acme}:203.0.113.7"]
            for key in keys:
                assert 0 < await admin.pttl(key) <= 3000  # gone once the bucket is full again
