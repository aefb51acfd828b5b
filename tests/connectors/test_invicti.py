"""Invicti Platform Identity SCIM (`invicti`) against the Invicti simulator."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import parse_qs

from tests.connectors.contract import ConnectorContract
from vendors.base import Kind, SearchQuery
from vendors.simulators.seed import demo_secret


class TestInvictiContract(ConnectorContract):
    vendor = "invicti"
    simulator = "invicti"

    def app_settings(self, root_url: str, sim_settings: Any, credentials: dict[str, str]) -> dict[str, Any]:
        return {"base_url": f"{root_url}/api/scim/v2", "credentials": {"token": credentials["scim_token"]}}

    async def test_filters_go_upstream_in_invictis_operator_spelling(self) -> None:
        async with self.running() as env:
            user = (await env.connector.search(env.budget(), Kind.USER, SearchQuery(count=1))).resources[0]
            text = f'userName eq "{user["userName"]}" and not (active eq false)'
            await env.clear_requests()
            page = await env.connector.search(
                env.budget(), Kind.USER, SearchQuery(filter=self.parse_filter(env, Kind.USER, text))
            )
            sent = parse_qs((await env.requests())[-1]["query"])["filter"]
        assert ids(page.resources) == [user["id"]]
        assert sent == [f'userName Eq "{user["userName"]}" And Not (active Eq false)']


def ids(resources: list[dict[str, Any]]) -> list[str]:
    return [resource["id"] for resource in resources]


class TestInvictiOAuthContract(TestInvictiContract):
    """The same contract with OAuth2 client credentials, which the Invicti Platform prefers to static bearers."""

    identifiers = ("client_id",)
    token_path = "/oauth/token"

    def sim_users(self, sim_settings: Any, users: int) -> Any:
        client = ("contract-gateway", demo_secret("invicti", self.seed, "client-secret"))
        return dataclasses.replace(sim_settings, users=users, oauth_client=client)

    def app_settings(self, root_url: str, sim_settings: Any, credentials: dict[str, str]) -> dict[str, Any]:
        return {
            "base_url": f"{root_url}/api/scim/v2",
            "token_url": f"{root_url}/oauth/token",
            "credentials": {"client_id": credentials["client_id"], "client_secret": credentials["client_secret"]},
        }

    async def test_requests_are_signed_with_a_fetched_token(self) -> None:
        async with self.running() as env:
            await env.connector.check(env.budget())
            await env.connector.check(env.budget())
            log = await env.requests()
        assert [(e["method"], e["path"]) for e in log if e["path"].startswith("/oauth")] == [("POST", "/oauth/token")]
        assert [e["auth_scheme"] for e in log if e["path"].startswith("/api/scim")] == ["Bearer", "Bearer"]
