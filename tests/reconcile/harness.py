"""A gateway runtime with a directory and one app on a real simulator over loopback, for reconciliation tests.

Built as the lifespan builds it (parse_config, open_directory, build_runtime, Reconciler), minus the HTTP
server: the service functions are called directly, as the admin router will call them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.clock import Clock
from gateway.config import parse_config
from gateway.directory.store import Directory, open_directory
from gateway.inbound.auth import hash_token
from gateway.inbound.serving import serving
from gateway.reconcile.reconciler import Reconciler
from gateway.runtime import AppRuntime, Runtime, build_runtime
from vendors.simulators import SIMULATORS
from vendors.simulators.base import Simulator

OBSERVABILITY = {"audit": {"file": "/dev/null"}, "health_check_interval": 3600, "metrics_port": None}


@dataclass
class Reconciling:
    runtime: Runtime
    directory: Directory
    reconciler: Reconciler
    simulator: Simulator
    root_url: str

    @property
    def app(self) -> AppRuntime:
        return self.runtime.tenants["acme"].apps["app"]

    async def console(self, method: str, path: str = "", body: Any = None) -> httpx.Response:
        """The simulator's console (`/_sim/users`): an admin acting at the vendor, bypassing the gateway."""
        async with httpx.AsyncClient(base_url=self.root_url) as client:
            return await client.request(method, "/_sim/users" + path, json=body)


def app_settings(vendor: str, sim_settings: Any, root_url: str, base_path: str) -> dict[str, Any]:
    """The app's config keys for the simulator (literal demo credentials, plain http on loopback)."""
    app: dict[str, Any] = {"vendor": vendor, "allow_insecure_url": True}
    if vendor == "delinea":
        app.update(base_url=root_url, credentials={"client_id": sim_settings.client_id,
                                                   "client_secret": sim_settings.client_secret})  # fmt: skip
    elif vendor == "orca":
        app.update(base_url=root_url + "/api", credentials={"token": sim_settings.rest_token})
    else:
        app.update(base_url=root_url + base_path, credentials={"token": sim_settings.scim_token})
    return app


@contextlib.asynccontextmanager
async def reconciling(
    database_url: str,
    keys: dict[str, str],
    simulator: str = "invicti",
    vendor: str = "invicti",
    clock: Clock | None = None,
    sim: dict[str, Any] | None = None,
    app: dict[str, Any] | None = None,
) -> AsyncIterator[Reconciling]:
    """A simulator (demo settings + `sim` overrides) and a runtime whose tenant acme has one app `app` on it."""
    spec = SIMULATORS[simulator]
    settings = spec.demo_settings("acme")
    if sim:
        settings = type(settings)(**{**settings.__dict__, **sim})
    simulated = spec.create_app(settings)
    async with serving(simulated) as server:
        raw = {
            "allow_literal_secrets": True,
            "observability": OBSERVABILITY,
            "directory": {"url": database_url, "encryption": {"keys": [keys["old"]], "index_key": keys["index"]}},
            "tenants": {
                "acme": {
                    "tokens": [{"name": "test", "sha256": hash_token("acme-test-token")}],
                    "apps": {
                        "app": {
                            **app_settings(vendor, settings, server.url, spec.scim_base_path(settings)),
                            **(app or {}),
                        }
                    },
                }
            },
        }
        config = parse_config(raw)
        assert config.directory is not None
        directory = await open_directory(config.directory, clock)
        runtime = build_runtime(config, "test", directory)
        reconciler = Reconciler(runtime, directory, **({"clock": clock} if clock else {}))
        runtime.reconciler = reconciler
        try:
            yield Reconciling(runtime, directory, reconciler, simulated, server.url)
        finally:
            tasks = list(reconciler.tasks.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await runtime.close()
