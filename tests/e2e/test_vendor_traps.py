"""Each documented vendor trap is real in its simulator, and the gateway absorbs it.

Every test shows both halves: the simulator, called directly, springs the
trap (so the test cannot pass against a simulator that lost it), and the same
intent through the gateway comes out right.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.config import parse_config
from gateway.demo import DemoEnvironment
from gateway.inbound.auth import hash_token
from gateway.inbound.serving import serving
from tests.e2e.conftest import auth
from tests.resilience.harness import TEST_METRICS
from vendors.simulators import SIMULATORS

pytestmark = pytest.mark.asyncio(loop_scope="module")
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _vendor(demo: DemoEnvironment, vendor: str, credential: str = "SCIM_TOKEN") -> tuple[str, dict[str, str]]:
    """The simulator's SCIM root as the gateway's config has it, and its own credential."""
    token = os.environ[f"DEMO_{vendor.upper()}_ACME_{credential}"]
    return os.environ[f"DEMO_{vendor.upper()}_ACME_SCIM_URL"], {"Authorization": f"Bearer {token}"}


def _user(prefix: str, **extra: Any) -> dict[str, Any]:
    return {"schemas": [USER], "userName": f"{prefix}.{uuid.uuid4().hex[:8]}@acme.example", **extra}


async def _log(client: httpx.AsyncClient, demo: DemoEnvironment, vendor: str) -> list[dict[str, Any]]:
    return (await client.get(demo.simulator_url(vendor, "acme") + "/_sim/requests")).json()


async def _clear_log(client: httpx.AsyncClient, demo: DemoEnvironment, vendor: str) -> None:
    await client.delete(demo.simulator_url(vendor, "acme") + "/_sim/requests")


async def test_delinea_page_cap_is_absorbed(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    root, vendor_auth = _vendor(demo, "delinea")
    for index in range(160):
        created = await client.post(root + "/Users", headers=vendor_auth, json=_user(f"bulk{index}"))
        assert created.status_code == 201
    direct = (await client.get(root + "/Users?startIndex=1&count=150", headers=vendor_auth)).json()
    assert len(direct["Resources"]) == 100 < direct["totalResults"]

    await _clear_log(client, demo, "delinea")
    through = await client.get(demo.scim_url("acme", "delinea-scim") + "/Users?count=150", headers=auth("acme"))
    body = through.json()
    assert through.status_code == 200 and body["itemsPerPage"] == 150 == len(body["Resources"])
    assert len({resource["id"] for resource in body["Resources"]}) == 150
    pages = [entry for entry in await _log(client, demo, "delinea") if entry["path"].endswith("/Users")]
    assert len(pages) == 2 and all("count=100" in e["query"] or "count=50" in e["query"] for e in pages)


async def test_delinea_patch_204_becomes_200_with_the_resource(
    demo: DemoEnvironment, client: httpx.AsyncClient
) -> None:
    root, vendor_auth = _vendor(demo, "delinea")
    created = (await client.post(root + "/Users", headers=vendor_auth, json=_user("p204", externalId="e1"))).json()
    operations = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "Direct"}]}
    direct = await client.patch(root + f"/Users/{created['id']}", headers=vendor_auth, json=operations)
    assert direct.status_code == 204 and not direct.content

    operations["Operations"][0]["value"] = "Through"
    url = demo.scim_url("acme", "delinea-scim") + f"/Users/{created['id']}"
    through = await client.patch(url, headers=auth("acme"), json=operations)
    assert through.status_code == 200
    assert through.json()["displayName"] == "Through" and through.json()["id"] == created["id"]


async def test_delinea_update_without_external_id_leaves_no_duplicate(
    demo: DemoEnvironment, client: httpx.AsyncClient
) -> None:
    root, vendor_auth = _vendor(demo, "delinea")

    async def holders(user_name: str) -> int:
        state = (await client.get(demo.simulator_url("delinea", "acme") + "/_sim/state")).json()
        return sum(user["userName"] == user_name for user in state["scim"]["Users"])

    trapped = (await client.post(root + "/Users", headers=vendor_auth, json=_user("dup", externalId="x-1"))).json()
    replacement = {"schemas": [USER], "userName": trapped["userName"], "displayName": "No externalId"}
    assert (await client.put(root + f"/Users/{trapped['id']}", headers=vendor_auth, json=replacement)).is_success
    assert await holders(trapped["userName"]) == 2  # the trap: Delinea kept the old record as a second user

    safe = (await client.post(root + "/Users", headers=vendor_auth, json=_user("nodup", externalId="x-2"))).json()
    base = demo.scim_url("acme", "delinea-scim") + f"/Users/{safe['id']}"
    put = {"schemas": [USER], "userName": safe["userName"], "displayName": "Okta PUT without externalId"}
    assert (await client.put(base, headers=auth("acme"), json=put)).status_code == 200
    patch = {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}
    assert (await client.patch(base, headers=auth("acme"), json=patch)).status_code == 200
    assert await holders(safe["userName"]) == 1
    assert (await client.get(base, headers=auth("acme"))).json()["externalId"] == "x-2"


async def test_orca_rest_token_is_refused_by_the_scim_surface(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    root, _ = _vendor(demo, "orca")
    rest_token = os.environ["DEMO_ORCA_ACME_REST_TOKEN"]
    for scheme in ("Bearer", "Token"):
        refused = await client.get(root + "/Users", headers={"Authorization": f"{scheme} {rest_token}"})
        assert refused.status_code == 401
        assert "SCIM token" in refused.json()["detail"]


async def test_orca_group_push_works_without_group_get_or_patch(
    demo: DemoEnvironment, client: httpx.AsyncClient
) -> None:
    root, vendor_auth = _vendor(demo, "orca")
    group = (await client.get(root + "/Groups", headers=vendor_auth)).json()["Resources"][0]
    assert (await client.get(root + f"/Groups/{group['id']}", headers=vendor_auth)).status_code == 405
    user = (await client.post(root + "/Users", headers=vendor_auth, json=_user("orcag"))).json()

    await _clear_log(client, demo, "orca")
    url = demo.scim_url("acme", "orca-scim") + f"/Groups/{group['id']}"
    add = {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": user["id"]}]}]}
    response = await client.patch(url, headers=auth("acme"), json=add)
    assert response.status_code == 200
    assert user["id"] in {member["value"] for member in response.json()["members"]}
    fetched = (await client.get(url, headers=auth("acme"))).json()
    assert user["id"] in {member["value"] for member in fetched["members"]}
    sent = {(entry["method"], entry["path"].count("/Groups/")) for entry in await _log(client, demo, "orca")}
    assert ("PUT", 1) in sent and ("PATCH", 1) not in sent and ("GET", 1) not in sent


async def test_spekit_ignores_paging_and_the_gateway_slices(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    root, vendor_auth = _vendor(demo, "spekit")
    direct = (await client.get(root + "/Users?startIndex=2&count=1", headers=vendor_auth)).json()
    assert len(direct["Resources"]) == direct["totalResults"] > 2

    base = demo.scim_url("acme", "spekit")
    everyone = (await client.get(base + "/Users", headers=auth("acme"))).json()["Resources"]
    page = (await client.get(base + "/Users?startIndex=2&count=1", headers=auth("acme"))).json()
    assert page["totalResults"] == len(everyone) and page["startIndex"] == 2 and page["itemsPerPage"] == 1
    assert [resource["id"] for resource in page["Resources"]] == [everyone[1]["id"]]


async def test_invicti_receives_its_own_filter_spelling(demo: DemoEnvironment, client: httpx.AsyncClient) -> None:
    await _clear_log(client, demo, "invicti")
    query = '/Users?filter=userName eq "nobody@acme.example" and active eq true'
    response = await client.get(demo.scim_url("acme", "invicti") + query, headers=auth("acme"))
    assert response.status_code == 200 and response.json()["totalResults"] == 0
    (sent,) = await _log(client, demo, "invicti")
    assert 'userName Eq "nobody@acme.example" And active Eq true' in httpx.QueryParams(sent["query"])["filter"]


async def test_delinea_versions_that_answer_patch_200_need_no_read_back(client: httpx.AsyncClient) -> None:
    spec = SIMULATORS["delinea"]
    settings = dataclasses.replace(spec.demo_settings("acme"), patch_status=200)
    async with serving(spec.create_app(settings)) as simulator:
        root = simulator.url + spec.scim_base_path(settings)
        vendor_auth = {"Authorization": f"Bearer {settings.scim_token}"}
        user = (await client.get(root + "/Users?count=1", headers=vendor_auth)).json()["Resources"][0]
        operations = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "Direct"}]}
        direct = await client.patch(root + f"/Users/{user['id']}", headers=vendor_auth, json=operations)
        assert direct.status_code == 200 and direct.json()["title"] == "Direct"

        app = {"vendor": "delinea-scim", "base_url": root, "credentials": {"token": settings.scim_token},
               "allow_insecure_url": True}  # fmt: skip
        config = parse_config({
            "allow_literal_secrets": True,
            "observability": TEST_METRICS,
            "tenants": {"acme": {"tokens": [{"name": "t", "sha256": hash_token("t0ken")}], "apps": {"d": app}}},
        })  # fmt: skip
        async with serving(create_app(config)) as gateway:
            await client.delete(simulator.url + "/_sim/requests")
            operations["Operations"][0]["value"] = "Through"
            url = f"{gateway.url}/tenants/acme/apps/d/scim/v2/Users/{user['id']}"
            through = await client.patch(url, headers={"Authorization": "Bearer t0ken"}, json=operations)
            assert through.status_code == 200 and through.json()["title"] == "Through"
            sent = [e for e in (await client.get(simulator.url + "/_sim/requests")).json() if "/Users/" in e["path"]]
            assert [entry["method"] for entry in sent] == ["GET", "PATCH"]  # the stored externalId, then the PATCH
