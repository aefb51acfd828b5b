"""Shared pieces for the throttle and resilience tests: a real simulator, a real gateway, over loopback.

Nothing here mocks gateway code: tests start an Invicti simulator (faults via
its /_sim/ API), build a config as an operator would write it (literal
secrets allowed, as in throwaway tests) and serve the real app.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.app import create_app
from gateway.config import GatewayConfig, parse_config
from gateway.inbound.auth import hash_token
from gateway.inbound.serving import RunningServer, serving
from vendors.simulators import SIMULATORS
from vendors.simulators.base import FaultRule, Simulator

TOKENS = {"acme": "acme-test-token", "globex": "globex-test-token"}
#: /metrics on a free loopback port: the default port (9464) would collide between gateways run at once.
TEST_METRICS = {"metrics_port": 0, "metrics_host": "127.0.0.1"}
#: No audit, no periodic health checks, TEST_METRICS.
TEST_OBSERVABILITY = {"audit": {"file": os.devnull}, "health_check_interval": 3600, **TEST_METRICS}
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


@dataclass
class RunningSimulator:
    server: RunningServer
    app: Simulator
    scim_url: str
    token: str

    def fault(self, **rule: Any) -> None:
        self.app.add_fault(FaultRule(**rule))

    def requests(self, method: str | None = None, contains: str = "") -> list[dict[str, Any]]:
        return [
            entry
            for entry in self.app.requests
            if (method is None or entry["method"] == method) and contains in entry["path"] + "?" + entry["query"]
        ]

    async def settle(self, gateways: int = 1) -> None:
        """Wait for the start-up health check of each of `gateways` to reach this simulator, then clear the log."""
        for _ in range(1000):
            if len(self.app.requests) >= gateways:
                break
            await asyncio.sleep(0.01)
        self.app.requests.clear()

    def users(self) -> list[dict[str, Any]]:
        return list(self.app.state()["Users"])


@contextlib.asynccontextmanager
async def simulator(seed: str = "acme", **overrides: Any) -> AsyncIterator[RunningSimulator]:
    """An Invicti simulator on a free loopback port."""
    spec = SIMULATORS["invicti"]
    settings = spec.demo_settings(seed)
    if overrides:
        settings = type(settings)(**{**settings.__dict__, **overrides})
    app = spec.create_app(settings)
    async with serving(app) as server:
        yield RunningSimulator(server, app, server.url + spec.scim_base_path(settings), settings.scim_token)


def app_config(sim: RunningSimulator, **extra: Any) -> dict[str, Any]:
    """An `invicti` app pointing at `sim`, plus any gateway keys (limits, upstream, retry, breaker, http)."""
    return {
        "vendor": "invicti",
        "base_url": sim.scim_url,
        "credentials": {"token": sim.token},
        "allow_insecure_url": True,  # the simulator: plain http on loopback
        **extra,
    }


def gateway_config(tenants: dict[str, dict[str, Any]], **top: Any) -> GatewayConfig:
    """`tenants` maps name -> {"apps": {...}, optional "limits"}; each gets its TOKENS entry."""
    # Audit records go nowhere: these tests read outcomes from answers, the simulator log and /metrics
    # (on a free port of its own, as in production).
    raw: dict[str, Any] = {
        "allow_literal_secrets": True,
        "tenants": {},
        "observability": TEST_OBSERVABILITY,
        **top,
    }
    for name, tenant in tenants.items():
        raw["tenants"][name] = {"tokens": [{"name": "test", "sha256": hash_token(TOKENS[name])}], **tenant}
    return parse_config(raw)


@contextlib.asynccontextmanager
async def gateway(config: GatewayConfig) -> AsyncIterator[RunningServer]:
    async with serving(create_app(config)) as server:
        yield server


@contextlib.asynccontextmanager
async def one_app(**app_extra: Any) -> AsyncIterator[tuple[RunningSimulator, RunningServer]]:
    """A simulator and a gateway with tenant acme's one app `invicti` on it; the start-up check is settled."""
    async with simulator() as sim:
        config = gateway_config({"acme": {"apps": {"invicti": app_config(sim, **app_extra)}}})
        async with gateway(config) as server:
            await sim.settle()
            yield sim, server


def scim_client(server: RunningServer, tenant: str, app: str, timeout: float = 10.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"{server.url}/tenants/{tenant}/apps/{app}/scim/v2",
        headers={"Authorization": f"Bearer {TOKENS[tenant]}"},
        timeout=timeout,
    )


def new_user(user_name: str, external_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": [USER_SCHEMA], "userName": user_name, "active": True}
    if external_id is not None:
        body["externalId"] = external_id
    return body


def metrics_url(server: RunningServer) -> str:
    """Where the gateway served by `server` publishes /metrics (its own port)."""
    url: str = server.server.config.app.state.metrics_url
    return url


async def metric_value(server: RunningServer, name: str, **labels: str) -> float:
    """The sum of a Prometheus sample family on /metrics matching `labels`."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(metrics_url(server))).text
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total
