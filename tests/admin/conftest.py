"""The demo gateway with operator tokens of every scope, for the admin API and CLI tests.

One demo serves a module (tests use their own people, so they do not see each other's data);
modules mark their tests with `pytestmark = pytest.mark.asyncio(loop_scope="module")`. Its apps
retry once (a fault answers at once) and their breakers never open (faults in one test must not
leave an app's circuit open for the next).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from gateway.demo import DEMO_TOKENS, DemoEnvironment, start_demo
from gateway.inbound.auth import hash_token

SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
DEMO_OPERATOR = "demo-operator-token"
#: Operator tokens by name: each holds one scope (or, `globex-reader`, read on globex only).
OPERATORS: dict[str, dict[str, Any]] = {
    "reader": {"scopes": ["read"]},
    "offboarder": {"scopes": ["offboard"]},
    "worker": {"scopes": ["work"]},
    "approver": {"scopes": ["approve"]},
    "globex-reader": {"scopes": ["read"], "tenants": ["globex"]},
}


def operator(name: str) -> dict[str, str]:
    """The Authorization header of a test operator token (`demo` for the demo's own, every scope)."""
    token = DEMO_OPERATOR if name == "demo" else f"{name}-operator-token"
    return {"Authorization": f"Bearer {token}"}


def adjust(raw: dict[str, Any], audit_file: Path | None = None, user_name: str = "clear") -> None:
    """The demo config with the test operator tokens, quick-failing apps and (optionally) an audit file.

    Without the demo's directory: these tests describe the review of stateless apps (origin unknown,
    no orphans); test_directory_origin.py adds a directory of its own, every app at its default mode.
    """
    raw.pop("directory", None)
    observability = raw.setdefault("observability", {})
    observability["operator_tokens"] = [
        *observability.get("operator_tokens", []),
        *({"name": name, "sha256": hash_token(f"{name}-operator-token"), **grant} for name, grant in OPERATORS.items()),
    ]
    if audit_file is not None:
        observability["audit"] = {"file": str(audit_file), "user_name": user_name}
    for tenant in raw["tenants"].values():
        for app in tenant["apps"].values():
            app.pop("directory", None)
            app.pop("mode", None)  # the demo's manual Darktrace needs the directory: here it is the 501 app
            app.pop("guard", None)  # kept in the directory (tests/deprovisioning has its own)
            app["retry"] = {"attempts": 1}
            app["breaker"] = {"failures": 1000}


@contextlib.asynccontextmanager
async def admin_demo(
    audit_file: Path | None = None, throttle: dict[str, Any] | None = None, user_name: str = "clear"
) -> AsyncIterator[DemoEnvironment]:
    """A demo of its own (`throttle`: the config's throttle section; `user_name`: the audit's policy)."""

    def adjusted(raw: dict[str, Any]) -> None:
        adjust(raw, audit_file, user_name)
        if throttle is not None:
            raw["throttle"] = throttle

    async with start_demo(adjust=adjusted) as demo:
        yield demo


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo() -> AsyncIterator[DemoEnvironment]:
    async with admin_demo() as environment:
        yield environment


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield http


def admin_url(demo: DemoEnvironment, tenant: str, path: str) -> str:
    return f"{demo.gateway.url}/admin/v1/tenants/{tenant}{path}"


def new_user(user_name: str) -> dict[str, Any]:
    given, family = user_name.split("@")[0].split(".", 1)
    return {
        "schemas": [SCHEMA],
        "userName": user_name,
        "externalId": f"ext-{user_name}",
        "displayName": f"{given.title()} {family.title()}",
        "name": {"givenName": given.title(), "familyName": family.title()},
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        "active": True,
    }


async def provision(client: httpx.AsyncClient, demo: DemoEnvironment, user_name: str, tenant: str = "acme") -> None:
    """Create the person through the gateway's SCIM API in every app of the tenant that has a user API."""
    headers = {"Authorization": f"Bearer {DEMO_TOKENS[tenant]}"}
    for app in demo.config.tenants[tenant].apps:
        response = await client.post(demo.scim_url(tenant, app) + "/Users", json=new_user(user_name), headers=headers)
        assert response.status_code in (201, 501), (app, response.text)


@contextlib.asynccontextmanager
async def fault(
    client: httpx.AsyncClient, demo: DemoEnvironment, vendor: str, tenant: str, rule: dict[str, Any]
) -> AsyncIterator[None]:
    """A simulator fault rule (vendors/simulators/base.py FaultRule) for the block; cleared after it."""
    root = demo.simulator_url(vendor, tenant)
    assert (await client.post(f"{root}/_sim/faults", json=rule)).status_code == 200
    try:
        yield
    finally:
        assert (await client.delete(f"{root}/_sim/faults")).status_code == 200


async def simulator_requests(client: httpx.AsyncClient, demo: DemoEnvironment, vendor: str, tenant: str) -> list[Any]:
    response = await client.get(f"{demo.simulator_url(vendor, tenant)}/_sim/requests")
    assert response.status_code == 200
    requests: list[Any] = response.json()
    return requests


async def clear_requests(client: httpx.AsyncClient, demo: DemoEnvironment, vendor: str, tenant: str) -> None:
    assert (await client.delete(f"{demo.simulator_url(vendor, tenant)}/_sim/requests")).status_code == 200
