"""Operator tokens and scopes: each admin route refused without its scope, SCIM tokens never accepted,
tenants limited, failed attempts throttled as SCIM's are."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from gateway.admin.routes import ROUTES
from gateway.demo import DEMO_TOKENS, DemoEnvironment
from tests.admin.conftest import OPERATORS, admin_demo, admin_url, operator

pytestmark = pytest.mark.asyncio(loop_scope="module")
ROUTE_IDS = [f"{route.method} {route.path}" for route in ROUTES]
#: Every route is tried with bad credentials from one client: a failure budget large enough that none of
#: those attempts waits for the failed-auth throttle (its own test below uses a tight one).
ROOMY = {"client": {"rate": 100, "burst": 1000}, "tenant": {"rate": 100, "burst": 1000}}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo() -> AsyncIterator[DemoEnvironment]:
    async with admin_demo(throttle={"failed_auth": ROOMY}) as environment:
        yield environment


async def call(
    client: httpx.AsyncClient,
    demo: DemoEnvironment,
    method: str,
    path: str,
    headers: dict[str, str],
    tenant: str = "acme",
) -> httpx.Response:
    """One call of an admin route with a harmless valid request (a dry run, a one-name roster)."""
    url = admin_url(demo, tenant, path.replace("{app}", "spekit").replace("{id}", "0" * 32))
    if "/guard/" in path:
        return await client.post(url, headers=headers)  # no body: the whole held batch
    if path == "/people":
        return await client.get(url, params={"userName": "scope.check@acme.example"}, headers=headers)
    if path == "/people/offboard":
        return await client.post(url, json={"userName": "scope.check@acme.example", "dry_run": True}, headers=headers)
    if path.startswith("/work/"):
        return await client.post(url, json={"reason": "scope check"}, headers=headers)
    if method == "POST":
        return await client.post(url, content=b"scope.check@acme.example\n", headers=headers)
    return await client.request(method, url, headers=headers)


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
async def test_each_route_needs_its_scope(demo: DemoEnvironment, client: httpx.AsyncClient, route: Any) -> None:
    for name, grant in OPERATORS.items():
        if route.scope.value in grant["scopes"] and "tenants" not in grant:
            continue
        response = await call(client, demo, route.method, route.path, operator(name))
        assert response.status_code == 403, (name, response.text)
        assert response.json()["status"] == "403" and name in response.json()["detail"]
    holder = next(name for name, grant in OPERATORS.items() if grant["scopes"] == [route.scope.value])
    # A route naming one work item is called for an item that does not exist: past the scope check, 404.
    # This demo keeps no directory, so its apps cannot be reconciled: past the scope check, 501; nor do they
    # have a guard or recorded dry-run calls: 404 (tests/deprovisioning and tests/dryrun call those with one).
    allowed = (
        404
        if "{id}" in route.path or "/guard" in route.path or route.path.endswith("/dry-run")
        else 501
        if route.path.endswith("/reconcile")
        else 200
    )
    assert (await call(client, demo, route.method, route.path, operator(holder))).status_code == allowed
    assert (await call(client, demo, route.method, route.path, operator("demo"))).status_code == allowed


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
async def test_a_scim_token_never_opens_the_admin_api(
    demo: DemoEnvironment, client: httpx.AsyncClient, route: Any
) -> None:
    for headers in ({"Authorization": f"Bearer {DEMO_TOKENS['acme']}"}, {}, {"Authorization": "Basic YTpi"}):
        response = await call(client, demo, route.method, route.path, headers)
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["status"] == "401"


async def test_a_token_acts_only_on_its_tenants(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    assert (await call(client, demo, "GET", "/people", operator("globex-reader"), "globex")).status_code == 200
    refused = await call(client, demo, "GET", "/people", operator("globex-reader"), "acme")
    assert refused.status_code == 403 and "tenant 'acme'" in refused.json()["detail"]
    assert (await call(client, demo, "GET", "/people", operator("globex-reader"), "initech")).status_code == 403
    assert (await call(client, demo, "GET", "/people", operator("demo"), "initech")).status_code == 404


async def test_the_status_page_opens_for_read_on_every_tenant_only(
    demo: DemoEnvironment, client: httpx.AsyncClient
) -> None:
    url = demo.gateway.url + "/status"
    assert (await client.get(url, headers=operator("reader"))).status_code == 200
    assert (await client.get(url, headers=operator("demo"))).status_code == 200
    for name in ("offboarder", "globex-reader"):
        assert (await client.get(url, headers=operator(name))).status_code == 401, name


async def test_failed_operator_auth_is_throttled_apart_from_scim(client: httpx.AsyncClient) -> None:
    limited = {"client": {"rate": 0.01, "burst": 4, "max_wait": 0}, "tenant": {"rate": 0.01, "burst": 4}}
    async with admin_demo(throttle={"failed_auth": limited}) as demo:
        good = await call(client, demo, "GET", "/people", operator("reader"))  # its first check takes a slot
        assert good.status_code == 200
        statuses = [
            (await call(client, demo, "GET", "/people", {"Authorization": "Bearer guess"})).status_code
            for _ in range(5)
        ]
        assert statuses[:3] == [401] * 3 and statuses[3:] == [429] * 2
        throttled = await call(client, demo, "GET", "/people", {"Authorization": "Bearer guess"})
        assert int(throttled.headers["retry-after"]) >= 1 and throttled.json()["status"] == "429"
        # A token this process accepted before still works; SCIM's own failure budget is untouched.
        assert (await call(client, demo, "GET", "/people", operator("reader"))).status_code == 200
        scim = await client.get(demo.scim_url("acme", "spekit") + "/Users", headers={"Authorization": "Bearer guess"})
        assert scim.status_code == 401
