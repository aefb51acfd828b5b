"""Delinea Platform's SCIM surface (`delinea-scim`) against the Delinea simulator."""

from __future__ import annotations

from typing import Any

from scim2_models import Context

from tests.connectors.contract import ConnectorContract
from vendors.base import Kind, SearchQuery


class TestDelineaScimContract(ConnectorContract):
    vendor = "delinea-scim"
    simulator = "delinea"
    page_cap = 100

    def app_settings(self, root_url: str, sim_settings: Any, credentials: dict[str, str]) -> dict[str, Any]:
        return {"base_url": f"{root_url}/scim/v2", "credentials": {"token": credentials["scim_token"]}}

    async def test_replace_without_external_id_leaves_no_duplicate_user(self) -> None:
        """Delinea's trap: an update that does not carry externalId is uncorrelated and duplicates the user."""
        async with self.running() as env:
            user = (await env.connector.search(env.budget(), Kind.USER, SearchQuery(count=1))).resources[0]
            wanted = {k: v for k, v in user.items() if k not in ("meta", "groups", "externalId")}
            wanted["displayName"] = "Without External Id"
            body = self.request_body(env, Kind.USER, wanted, Context.RESOURCE_REPLACEMENT_REQUEST)
            await env.connector.replace(env.budget(), Kind.USER, user["id"], body)
            operations = self.patch_ops(env, Kind.USER, user["id"], {"op": "replace", "path": "title", "value": "T"})
            await env.connector.patch(env.budget(), Kind.USER, user["id"], operations)
            state = await env.state()
        users = state["scim"]["Users"]
        assert len(users) == self.expected_users()
        assert [u["externalId"] for u in users if u["id"] == user["id"]] == [user["externalId"]]

    async def test_a_user_created_without_external_id_is_not_duplicated_by_updates(self) -> None:
        """The IdP may create a user without externalId; Delinea would then duplicate it on every update."""
        async with self.running() as env:
            wanted = {key: value for key, value in self.new_user("noext").items() if key != "externalId"}
            body = self.request_body(env, Kind.USER, wanted, Context.RESOURCE_CREATION_REQUEST)
            created = await env.connector.create(env.budget(), Kind.USER, body)
            operations = self.patch_ops(env, Kind.USER, created["id"], {"op": "replace", "path": "title", "value": "T"})
            await env.connector.patch(env.budget(), Kind.USER, created["id"], operations)
            again = {key: value for key, value in wanted.items() if key != "externalId"}
            replaced = self.request_body(env, Kind.USER, again, Context.RESOURCE_REPLACEMENT_REQUEST)
            await env.connector.replace(env.budget(), Kind.USER, created["id"], replaced)
            state = await env.state()
        names = [user["userName"] for user in state["scim"]["Users"]]
        assert names.count(wanted["userName"]) == 1
        assert len(names) == self.expected_users() + 1

    async def test_patch_answered_204_still_applies(self) -> None:
        """Delinea may answer PATCH with 204 and no body: the connector says None and the change is stored."""
        async with self.running() as env:
            user = (await env.connector.search(env.budget(), Kind.USER, SearchQuery(count=1))).resources[0]
            operations = self.patch_ops(env, Kind.USER, user["id"], {"op": "replace", "path": "title", "value": "CTO"})
            assert await env.connector.patch(env.budget(), Kind.USER, user["id"], operations) is None
            assert (await env.connector.get(env.budget(), Kind.USER, user["id"]))["title"] == "CTO"
