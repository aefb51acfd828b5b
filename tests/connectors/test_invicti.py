"""Invicti Platform Identity SCIM (`invicti`) against the Invicti simulator."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from tests.connectors.contract import ConnectorContract
from vendors.base import Kind, SearchQuery


class TestInvictiContract(ConnectorContract):
    vendor = "invicti"
    simulator = "invicti"

    def app_settings(self, root_url: str, sim_settings: Any, credentials: dict[str, str]) -> dict[str, Any]:
        return {"base_url": f"{root_url}/api/scim/v2", "credentials": {"token": credentials["scim_token"]}}

    async def test_filters_go_upstream_in_invictis_operator_spelling(self) -> None:
        async with self.running() as env:
            user = (await env.connector.search(Kind.USER, SearchQuery(count=1))).resources[0]
            text = f'userName eq "{user["userName"]}" and not (active eq false)'
            await env.clear_requests()
            page = await env.connector.search(Kind.USER, SearchQuery(filter=self.parse_filter(env, Kind.USER, text)))
            sent = parse_qs((await env.requests())[-1]["query"])["filter"]
        assert ids(page.resources) == [user["id"]]
        assert sent == [f'userName Eq "{user["userName"]}" And Not (active Eq false)']


def ids(resources: list[dict[str, Any]]) -> list[str]:
    return [resource["id"] for resource in resources]
