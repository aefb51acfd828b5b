"""GET /admin/v1/tenants/{tenant}/people: a person in every app at once, over loopback to the simulators."""

from __future__ import annotations

import httpx
import pytest

from gateway.demo import DemoEnvironment
from tests.admin.conftest import admin_url, fault, operator, provision
from vendors.simulators.seed import demo_data

pytestmark = pytest.mark.asyncio(loop_scope="module")
ACME_APPS = ["orca-scim", "delinea-scim", "delinea", "invicti", "spekit", "orca", "darktrace"]


async def find(client: httpx.AsyncClient, demo: DemoEnvironment, **params: str) -> httpx.Response:
    return await client.get(admin_url(demo, "acme", "/people"), params=params, headers=operator("reader"))


async def test_a_person_is_found_in_every_app_in_one_call(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    await provision(client, demo, "nora.found@acme.example")
    response = await find(client, demo, userName="NORA.found@acme.example")  # userName is caseExact false
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    apps = {answer["app"]: answer for answer in response.json()["apps"]}
    assert list(apps) == ACME_APPS, "every app answers, in the tenant's order"
    for name in ACME_APPS[:-1]:
        assert apps[name]["status"] == "found" and apps[name]["source"] == "vendor", apps[name]
        (account,) = apps[name]["accounts"]
        assert account["userName"] == "nora.found@acme.example" and account["active"] is True
        assert account["email"] == "nora.found@acme.example" and account["id"]
    assert apps["darktrace"]["status"] == "unsupported"
    assert "no user-management API" in apps["darktrace"]["detail"]
    # The same accounts by email and by externalId.
    ids = {name: apps[name]["accounts"][0]["id"] for name in ACME_APPS[:-1]}
    for params in ({"email": "nora.found@acme.example"}, {"externalId": "ext-nora.found@acme.example"}):
        again = {answer["app"]: answer for answer in (await find(client, demo, **params)).json()["apps"]}
        found = {name: answer["accounts"][0]["id"] for name, answer in again.items() if answer["status"] == "found"}
        assert found == {name: ids[name] for name in found}
        assert set(found) >= {"orca-scim", "delinea-scim", "invicti", "spekit"}, again


async def test_nobody_is_not_found_anywhere(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    apps = (await find(client, demo, userName="nobody.here@acme.example")).json()["apps"]
    assert [answer["status"] for answer in apps] == ["not_found"] * 6 + ["unsupported"]


async def test_a_failing_app_is_reported_with_a_scrubbed_detail(
    demo: DemoEnvironment, client: httpx.AsyncClient
) -> None:
    await provision(client, demo, "omar.partial@acme.example")
    async with fault(client, demo, "spekit", "acme", {"status": 503, "method": "GET", "times": -1}):
        response = await find(client, demo, userName="omar.partial@acme.example")
    assert response.status_code == 200
    apps = {answer["app"]: answer for answer in response.json()["apps"]}
    assert apps["spekit"]["status"] == "error" and apps["spekit"]["retryable"] is True
    assert "HTTP 503" in apps["spekit"]["detail"]
    assert all(apps[name]["status"] == "found" for name in ACME_APPS[:-1] if name != "spekit")
    # A vendor's refusal is not retryable, and what it said is shown scrubbed.
    leaky = {"detail": "backend 10.1.2.3 refused password=hunter2hunter2 see https://int.example/x"}
    async with fault(client, demo, "invicti", "acme", {"status": 400, "method": "GET", "times": -1, "body": leaky}):
        response = await find(client, demo, userName="omar.partial@acme.example")
    invicti = next(answer for answer in response.json()["apps"] if answer["app"] == "invicti")
    assert invicti["status"] == "error" and invicti["retryable"] is False and "refused" in invicti["detail"]
    assert "hunter2" not in response.text and "10.1.2.3" not in response.text and "int.example" not in response.text


async def test_an_admin_role_is_flagged_privileged(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    first = demo_data("acme").users[0]["userName"]  # the Orca simulator gives its first user the Admin role
    apps = {answer["app"]: answer for answer in (await find(client, demo, userName=first)).json()["apps"]}
    (account,) = apps["orca"]["accounts"]
    assert "Admin" in account["roles"] and account["privileged"] is True
    assert apps["spekit"]["accounts"][0]["privileged"] is False  # Spekit declares no privileged roles


@pytest.mark.parametrize(
    "params", [{}, {"userName": "a@b.example", "email": "a@b.example"}, {"userName": "x" * 300}], ids=str
)
async def test_one_lookup_is_required(demo: DemoEnvironment, client: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await find(client, demo, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and body["status"] == "400"
    assert body["detail"]
