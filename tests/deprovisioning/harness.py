"""Gateways whose apps have a deprovisioning guard or run dry, against the simulators on loopback.

`gateways(...)` serves N gateways in this process on one directory database (SQLite or PostgreSQL),
each with its own runtime and engine, as N replicas behind a load balancer would share it. Operator
tokens: `ops` (read and approve) and `viewer` (read only).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.config import parse_config
from gateway.inbound.auth import hash_token
from gateway.inbound.serving import RunningServer, serving
from gateway.runtime import Runtime
from tests.backed.harness import directory_section, raw_config
from tests.resilience.harness import TOKENS

#: Opens /status and the admin API with the scopes read and approve; VIEWER_TOKEN has read only.
OPERATOR_TOKEN = "operator-test-token"
VIEWER_TOKEN = "viewer-test-token"


def guarded_config(
    urls: dict[str, str],
    database_url: str,
    keys: dict[str, str],
    audit: Path,
    mode: str = "off",
    **app_options: Any,
) -> dict[str, Any]:
    """Tenant acme's `delinea` and `orca` (REST) apps with `app_options` (e.g. guard, dry_run) and directory `mode`."""
    raw = raw_config(urls, directory_section(database_url, keys), mode=mode)
    operators = [
        {"name": "ops", "sha256": hash_token(OPERATOR_TOKEN), "scopes": ["read", "approve"]},
        {"name": "viewer", "sha256": hash_token(VIEWER_TOKEN), "scopes": ["read"]},
    ]
    raw["observability"] = {**raw["observability"], "audit": {"file": str(audit)}, "operator_tokens": operators}
    raw["tenants"]["acme"]["apps"]["delinea"].update(app_options)
    raw["tenants"]["acme"]["apps"]["orca"].update(app_options)
    return raw


@dataclass
class Replica:
    url: str
    app: Starlette

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime


@contextlib.asynccontextmanager
async def gateways(raw: dict[str, Any], count: int) -> AsyncIterator[list[Replica]]:
    async with contextlib.AsyncExitStack() as stack:
        replicas = []
        for _ in range(count):
            app = create_app(parse_config(raw))
            server: RunningServer = await stack.enter_async_context(serving(app))
            replicas.append(Replica(server.url, app))
        yield replicas


def scim(server: Replica, app: str = "delinea") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"{server.url}/tenants/acme/apps/{app}/scim/v2",
        headers={"Authorization": f"Bearer {TOKENS['acme']}"},
        timeout=15,
    )


def admin(server: Replica, app: str = "delinea", token: str = OPERATOR_TOKEN) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"{server.url}/admin/v1/tenants/acme/apps/{app}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )


def audit_records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
