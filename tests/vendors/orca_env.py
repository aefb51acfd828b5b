"""The acme/orca test harness: an Orca simulator behind a one-app gateway, over loopback HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.app import create_app
from gateway.config import parse_config
from gateway.inbound.serving import serving
from tests.resilience.harness import TEST_METRICS
from vendors.simulators import SIMULATORS
from vendors.simulators.base import Simulator
from vendors.simulators.orca import OrcaSimSettings

TOKEN = "orca-rest-test-token"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ORCA_EXT = "urn:ietf:params:scim:schemas:extension:scim-gateway:orca:2.0:User"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class OrcaEnv:
    scim: httpx.AsyncClient  # the gateway's SCIM face of the app, authenticated
    http: httpx.AsyncClient  # the simulator, unauthenticated (control API; tests add auth themselves)
    sim: Simulator
    sim_url: str
    settings: OrcaSimSettings

    async def rest_users(self) -> list[dict[str, Any]]:
        """Orca's committed REST users (the truth, not the lagging read view)."""
        state = (await self.http.get("/_sim/state")).json()
        users: list[dict[str, Any]] = state["rest"]["users"]
        return users

    async def rest_user(self, email: str) -> dict[str, Any]:
        return next(user for user in await self.rest_users() if user["email"] == email)

    def requests(self, prefix: str = "/api/") -> list[dict[str, Any]]:
        return [entry for entry in self.sim.requests if entry["path"].startswith(prefix)]


@contextlib.asynccontextmanager
async def orca_env(options: dict[str, Any] | None = None, **sim: Any) -> AsyncIterator[OrcaEnv]:
    """An Orca simulator (settings overridden by `sim`) behind a one-app gateway (acme/orca)."""
    spec = SIMULATORS["orca"]
    settings = dataclasses.replace(spec.demo_settings("acme"), **sim)
    simulator = spec.create_app(settings)
    async with serving(simulator) as running:
        app = {
            "vendor": "orca",
            "allow_insecure_url": True,
            "base_url": f"{running.url}/api",
            "credentials": {"token": settings.rest_token},
            "options": {"confirm_delay": 0.001, **(options or {})},
        }
        config = parse_config(
            {
                "allow_literal_secrets": True,
                "observability": {"health_check_interval": 3600, **TEST_METRICS},
                "tenants": {
                    "acme": {
                        "tokens": [{"name": "t", "sha256": hashlib.sha256(TOKEN.encode()).hexdigest()}],
                        "apps": {"orca": app},
                    }
                },
            }
        )
        async with serving(create_app(config)) as gateway:
            await _after_first_health_check(simulator)
            base = f"{gateway.url}/tenants/acme/apps/orca/scim/v2"
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with (
                httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as scim,
                httpx.AsyncClient(base_url=running.url, timeout=30) as http,
            ):
                yield OrcaEnv(scim=scim, http=http, sim=simulator, sim_url=running.url, settings=settings)


async def _after_first_health_check(simulator: Simulator) -> None:
    """Wait (bounded) for the gateway's start-up connectivity check, then clear the log, so tests count only theirs."""
    for _ in range(200):
        if any(entry["query"] == "offset=0&limit=1" and entry["status"] for entry in simulator.requests):
            break
        await asyncio.sleep(0.01)
    simulator.requests.clear()
