"""Orca Security's REST API (`orca`) against the Orca simulator's REST surface."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from gateway.outbound.errors import UnknownResource, VendorAuthFailed
from tests.connectors.contract import ConnectorContract
from tests.connectors.harness import Harness
from vendors.base import Connector, Kind, SearchQuery


class TestOrcaContract(ConnectorContract):
    vendor = "orca"
    simulator = "orca"
    auth_scheme = "Token"
    user_path = "/rbac/users"
    #: The simulator's silent cap on REST list pages (Orca documents none: the connector walks them all).
    page_cap = 50
    seeds_many = True
    #: Orca holds email, name, role and status only.
    round_trip = ("userName", "displayName", "active", "emails")
    clearable = None

    def app_settings(self, root_url: str, sim_settings: Any, credentials: dict[str, str]) -> dict[str, Any]:
        return {"base_url": f"{root_url}/api", "credentials": {"token": credentials["rest_token"]}}

    def sim_users(self, sim_settings: Any, users: int) -> Any:
        return dataclasses.replace(sim_settings, users=min(users, self.seed_users), rest_users=users)

    def deletes_permanently(self, connector: Connector) -> bool:
        return connector.settings.options.delete_mode == "delete"  # type: ignore[attr-defined,no-any-return]

    def membership_group(self, groups: list[dict[str, Any]]) -> dict[str, Any]:
        # Removing a member from a role falls back to the default role, so test a role that is not the default.
        return next(group for group in groups if group["id"] != "Viewer")

    async def test_delete_deactivates_when_the_app_says_so(self) -> None:
        async with self.running(options={"delete_mode": "deactivate"}) as env:
            assert not self.deletes_permanently(env.connector)
            await self.check_delete(env)
            assert len((await env.state())["rest"]["users"]) == self.expected_users() + 1

    async def test_scim_token_on_the_rest_api_is_refused(self) -> None:
        async with self.running() as env:
            scim = env.credentials["scim_token"]
        async with self.running(credentials={"rest_token": scim}) as env:
            with pytest.raises(VendorAuthFailed) as raised:
                await env.connector.check(env.budget())
        assert scim not in str(raised.value)

    async def test_create_only_invites_and_says_so(self, env: Harness) -> None:
        created = await self.a_user(env, "invited")
        assert created["active"] is True
        assert created["urn:ietf:params:scim:schemas:extension:scim-gateway:orca:2.0:User"]["status"] == "invited"

    async def test_groups_are_the_platform_roles(self, env: Harness) -> None:
        groups = (await env.connector.search(env.budget(), Kind.GROUP, SearchQuery())).resources
        assert sorted(group["id"] for group in groups) == ["Admin", "Viewer"]
        with pytest.raises(UnknownResource):
            await env.connector.get(env.budget(), Kind.GROUP, "Owner")

    async def test_group_push_assigns_the_orca_role(self, env: Harness) -> None:
        admins = await env.connector.get(env.budget(), Kind.GROUP, "Admin")
        viewer = next(u for u in (await self.list_all(env, Kind.USER)) if u["roles"][0]["value"] == "Viewer")
        await self.change_members(env, admins, add=viewer["id"])
        stored = {user["id"]: user for user in (await env.state())["rest"]["users"]}
        assert stored[viewer["id"]]["role"] == "Admin"
        log = [entry for entry in await env.requests() if entry["method"] == "PATCH"]
        assert [entry["path"] for entry in log] == [f"/api/rbac/users/{viewer['id']}"]
        assert {entry["auth_scheme"] for entry in log} == {"Token"}
