"""Okta's and Entra's provisioning sequences against Orca and Delinea REST with `directory: full`,
on SQLite and on PostgreSQL: what the IdP writes is what it reads back, lookups find what it created,
and a delete deletes what the directory held."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.directory.store import open_directory
from tests.backed.harness import ENTERPRISE, PATCH_SCHEMA, BackedGateway, entra_user, okta_user
from tests.directory.conftest import directory_config

APPS = ("orca", "delinea")


def assert_holds(resource: dict[str, Any], sent: dict[str, Any]) -> None:
    """Every attribute sent reads back as sent (the vendor may add to it, never take away)."""
    for key, value in sent.items():
        if key == "schemas":
            assert set(value) <= set(resource["schemas"])
        elif isinstance(value, dict):
            assert_holds(resource[key], value)
        else:
            assert resource.get(key) == value, (key, resource.get(key), value)


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


@pytest.mark.parametrize("app", APPS)
@pytest.mark.parametrize("shape", ["okta", "entra"])
async def test_standard_attribute_sets_round_trip(backed: BackedGateway, app: str, shape: str) -> None:
    user = (okta_user if shape == "okta" else entra_user)(f"{shape}.{app}@acme.example", f"{shape}-{app}-1")
    async with backed.client(app) as client:
        created = await client.post("/Users", json=user)
        assert created.status_code == 201, created.text
        assert_holds(created.json(), user)
        read = (await client.get(f"/Users/{created.json()['id']}")).json()
        assert_holds(read, user)
        assert read["meta"]["version"] == created.headers["ETag"] == 'W/"1"'
        listed = (await client.get("/Users", params={"count": 1000})).json()["Resources"]
        assert_holds(next(r for r in listed if r["id"] == read["id"]), user)


@pytest.mark.parametrize("app", APPS)
async def test_lookups_by_external_id_user_name_and_held_attributes(backed: BackedGateway, app: str) -> None:
    user = entra_user(f"lookup.{app}@acme.example", f"entra-lookup-{app}")
    async with backed.client(app) as client:
        user_id = (await client.post("/Users", json=user)).json()["id"]
        for text in (
            f'externalId eq "entra-lookup-{app}"',
            f'userName eq "LOOKUP.{app.upper()}@acme.example"',  # userName is caseless (RFC 7643 section 4.1.1)
            'name.givenName eq "Grace" and title eq "Rear Admiral"',
            f'{ENTERPRISE}:employeeNumber eq "701"',
        ):
            found = (await client.get("/Users", params={"filter": text})).json()
            assert [r["id"] for r in found["Resources"]] == [user_id], text
        assert (await client.get("/Users", params={"filter": 'externalId eq "ENTRA-LOOKUP"'})).json()[
            "totalResults"
        ] == 0  # externalId is caseExact


@pytest.mark.parametrize("app", APPS)
async def test_every_patch_shape_reads_back(backed: BackedGateway, app: str) -> None:
    async with backed.client(app) as client:
        user_id = (await client.post("/Users", json=okta_user(f"patch.{app}@acme.example", f"p-{app}"))).json()["id"]
        steps = [
            patch({"op": "replace", "path": "name.givenName", "value": "Augusta"}),
            patch({"op": "replace", "path": 'emails[type eq "work"].value', "value": f"augusta.{app}@acme.example"}),
            patch({"op": "Replace", "value": {"title": "Countess", "name.familyName": "King", "nickName": "ak"}}),
            patch({"op": "add", "path": f"{ENTERPRISE}:employeeNumber", "value": "42"}),
            patch({"op": "replace", "path": f"{ENTERPRISE}:manager", "value": "mgr-1"}),  # Entra's bare id
            patch({"op": "remove", "path": "title"}),
            patch({"op": "replace", "path": 'addresses[type eq "work"].locality', "value": "London"}),
        ]
        for body in steps:
            response = await client.patch(f"/Users/{user_id}", json=body)
            assert response.status_code == 200, (body, response.text)
        read = (await client.get(f"/Users/{user_id}")).json()
    assert read["name"]["givenName"] == "Augusta" and read["name"]["familyName"] == "King"
    assert read["emails"][0]["value"] == f"augusta.{app}@acme.example"
    assert read["nickName"] == "ak" and "title" not in read
    assert read[ENTERPRISE]["employeeNumber"] == "42" and read[ENTERPRISE]["manager"]["value"] == "mgr-1"
    assert read["addresses"] == [{"type": "work", "locality": "London"}]
    assert read["meta"]["version"] == f'W/"{1 + len(steps)}"'


@pytest.mark.parametrize("app", APPS)
async def test_put_deactivate_and_delete(
    backed: BackedGateway, app: str, database_url: str, keys: dict[str, str]
) -> None:
    user = okta_user(f"put.{app}@acme.example", f"put-{app}")
    async with backed.client(app) as client:
        user_id = (await client.post("/Users", json=user)).json()["id"]
        replaced = {**user, "title": "Engineer", "nickName": None, "name": {"givenName": "Ada", "familyName": "King"}}
        replaced.pop("nickName")
        put = await client.put(f"/Users/{user_id}", json=replaced)
        assert put.status_code == 200, put.text
        assert put.json()["title"] == "Engineer" and "nickName" not in put.json()
        assert "middleName" not in put.json()["name"]  # PUT replaces: what it leaves out is gone
        off = await client.patch(f"/Users/{user_id}", json=patch({"op": "replace", "path": "active", "value": "False"}))
        assert off.status_code == 200 and off.json()["active"] is False
        assert (await client.get(f"/Users/{user_id}")).json()["active"] is False
        assert (await client.delete(f"/Users/{user_id}")).status_code == 204
        assert (await client.get(f"/Users/{user_id}")).status_code == 404
        lookup = await client.get("/Users", params={"filter": f'externalId eq "put-{app}"'})
        assert lookup.json()["totalResults"] == 0
    directory = await open_directory(directory_config(database_url, [keys["old"]], keys["index"]))
    try:
        resources = directory.resources("acme", app)
        assert await resources.by_vendor_id("User", user_id) is None  # deleted, not flagged
        assert await resources.by_external_id("User", f"put-{app}") == []
    finally:
        await directory.close()


async def test_discovery_announces_etags_and_the_attributes_the_gateway_holds(backed: BackedGateway) -> None:
    async with backed.client("orca") as client:
        config = (await client.get("/ServiceProviderConfig")).json()
        user_schema = (await client.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")).json()
    assert config["etag"]["supported"] is True
    attributes = {attribute["name"]: attribute for attribute in user_schema["attributes"]}
    assert "Kept by scim-gateway" in attributes["nickName"]["description"]
    assert "Kept by scim-gateway" not in attributes["displayName"].get("description", "")


@pytest.mark.parametrize("app", APPS)
async def test_a_change_to_held_attributes_only_is_not_sent_to_the_vendor(backed: BackedGateway, app: str) -> None:
    async with backed.client(app) as client:
        user_id = (await client.post("/Users", json=okta_user(f"held.{app}@acme.example", f"h-{app}"))).json()["id"]
        simulator = backed.simulators[app]
        simulator.requests.clear()
        body = patch({"op": "replace", "path": "nickName", "value": "countess"})
        answer = await client.patch(f"/Users/{user_id}", json=body)
        assert answer.status_code == 200 and answer.json()["nickName"] == "countess"
        writes = [
            entry for entry in simulator.requests if entry["method"] not in ("GET",) and "token" not in entry["path"]
        ]
        assert writes == []  # one read of the user, no write: nothing the vendor stores changed
        assert (await client.get(f"/Users/{user_id}")).json()["nickName"] == "countess"
