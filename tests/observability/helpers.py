"""Shared pieces of the observability tests: the demo's simulators, and the demo gateway with overrides.

`demo_gateway` is `gateway.demo.start_demo` with a config the test may
adjust (an audit file, a metrics port, tight limits).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from typing import Any

import httpx

from gateway.config import read_yaml
from gateway.demo import DEMO_TOKENS, DemoEnvironment, demo_config_path, start_demo

OPERATOR_TOKEN = "demo-operator-token"


def require_binary(name: str) -> str:
    """The path of a system binary the test needs; fails (never skips) when it is missing."""
    path = shutil.which(name)
    assert path, f"{name} is not installed: run scripts/setup (it installs the Debian packages the tests need)"
    return path


def demo_raw_config() -> dict[str, Any]:
    return read_yaml(demo_config_path())


@contextlib.asynccontextmanager
async def demo_gateway(
    observability: dict[str, Any] | None = None, tenant_limits: dict[str, Any] | None = None
) -> AsyncIterator[DemoEnvironment]:
    """The demo with `observability` merged into its config (and optional inbound limits for acme)."""

    def adjust(raw: dict[str, Any]) -> None:
        raw["observability"] = {**raw.get("observability", {}), **(observability or {})}
        if tenant_limits is not None:
            raw["tenants"]["acme"]["limits"] = tenant_limits

    async with start_demo(adjust=adjust) as demo:
        yield demo


def scim_client(tenant: str = "acme", token: str | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token or DEMO_TOKENS[tenant]}"}, timeout=httpx.Timeout(20.0)
    )
