"""Shared pieces of the observability tests: the demo's simulators, and the demo gateway with overrides.

`demo_gateway` is `gateway.demo.start_demo` with a config the test may
adjust (an audit file, a metrics port, tight limits): it starts the same
simulators, exports the same DEMO_* variables and loads config/demo.yaml.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import yaml

from gateway.app import create_app
from gateway.config import parse_config
from gateway.demo import DEMO_SIMULATORS, DEMO_TOKENS, DemoEnvironment, demo_config_path
from gateway.serving import RunningServer, serving, start_server
from vendors.simulators import SIMULATORS

OPERATOR_TOKEN = "demo-operator-token"


def require_binary(name: str) -> str:
    """The path of a system binary the test needs; fails (never skips) when it is missing."""
    path = shutil.which(name)
    assert path, f"{name} is not installed: run scripts/setup (it installs the Debian packages the tests need)"
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_raw_config() -> dict[str, Any]:
    with open(demo_config_path()) as stream:
        return yaml.safe_load(stream)


@contextlib.asynccontextmanager
async def demo_simulators() -> AsyncIterator[dict[tuple[str, str], RunningServer]]:
    """Start every demo simulator and export DEMO_* like `start_demo` does."""
    running: dict[tuple[str, str], RunningServer] = {}
    try:
        for vendor, tenant in DEMO_SIMULATORS:
            spec = SIMULATORS[vendor]
            settings = spec.demo_settings(tenant)
            server = await start_server(spec.create_app(settings), "127.0.0.1", 0)
            running[(vendor, tenant)] = server
            prefix = f"DEMO_{vendor.upper()}_{tenant.upper()}"
            os.environ[f"{prefix}_URL"] = server.url
            os.environ[f"{prefix}_SCIM_URL"] = server.url + spec.scim_base_path(settings)
            for name, value in spec.demo_credentials(settings).items():
                os.environ[f"{prefix}_{name.upper()}"] = value
        yield running
    finally:
        for server in running.values():
            await server.stop()


@contextlib.asynccontextmanager
async def demo_gateway(
    observability: dict[str, Any] | None = None, tenant_limits: dict[str, Any] | None = None
) -> AsyncIterator[DemoEnvironment]:
    """The demo with `observability` merged into its config (and optional inbound limits for acme)."""
    async with demo_simulators() as simulators:
        raw = demo_raw_config()
        raw["observability"] = {**raw.get("observability", {}), **(observability or {})}
        if tenant_limits is not None:
            raw["tenants"]["acme"]["limits"] = tenant_limits
        config = parse_config(raw)
        async with serving(create_app(config)) as gateway:
            yield DemoEnvironment(gateway=gateway, config=config, simulators=simulators)


def scim_client(tenant: str = "acme", token: str | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token or DEMO_TOKENS[tenant]}"}, timeout=httpx.Timeout(20.0)
    )
