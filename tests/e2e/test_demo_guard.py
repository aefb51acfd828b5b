"""The demo's deprovisioning guard (acme/delinea: 10 per 10 minutes): an IdP's burst of deactivations
trips it, and an operator's approval through the admin API releases the held batch."""

from __future__ import annotations

import httpx
import pytest

from gateway.demo import DemoEnvironment
from tests.e2e.conftest import auth

pytestmark = pytest.mark.asyncio(loop_scope="module")
OPERATOR = {"Authorization": "Bearer demo-operator-token"}
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
DEACTIVATE = {
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{"op": "replace", "path": "active", "value": False}],
}


async def test_a_burst_trips_the_demo_guard_and_an_approval_releases_it(
    demo: DemoEnvironment, client: httpx.AsyncClient
) -> None:
    users = demo.scim_url("acme", "delinea") + "/Users"
    guard = f"{demo.gateway.url}/admin/v1/tenants/acme/apps/delinea/guard"
    ids = []
    for index in range(12):
        name = f"burst.{index}@acme.example"
        body = {"schemas": [USER], "userName": name, "emails": [{"value": name, "primary": True}]}
        created = await client.post(users, json=body, headers=auth("acme"))
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    for user_id in ids[:10]:
        assert (await client.patch(f"{users}/{user_id}", json=DEACTIVATE, headers=auth("acme"))).status_code == 200
    held = [await client.patch(f"{users}/{user_id}", json=DEACTIVATE, headers=auth("acme")) for user_id in ids[10:]]
    assert [answer.status_code for answer in held] == [503, 503] and held[0].headers["Retry-After"] == "300"
    status = (await client.get(guard, headers=OPERATOR)).json()
    assert status["holding"] and {entry["id"] for entry in status["entries"]} == set(ids[10:])
    approved = await client.post(guard + "/approve", json={"batch": status["batch"]}, headers=OPERATOR)
    assert approved.status_code == 200 and approved.json()["entries"] == 2
    for user_id in ids[10:]:  # the IdP's retries
        answer = await client.patch(f"{users}/{user_id}", json=DEACTIVATE, headers=auth("acme"))
        assert answer.status_code == 200 and answer.json()["active"] is False
