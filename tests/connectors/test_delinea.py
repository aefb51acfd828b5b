"""Delinea Platform's REST API (`delinea`, OAuth2 client credentials) against the Delinea simulator."""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.connectors.contract import ConnectorContract

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


class TestDelineaContract(ConnectorContract):
    vendor = "delinea"
    simulator = "delinea"
    user_path = "/api/v1/users"
    page_cap = 100
    seeds_many = True
    identifiers = ("client_id",)
    token_path = "/identity/connect/token"
    round_trip = (
        *ConnectorContract.round_trip,
        "title",
        "phoneNumbers",
        f"{ENTERPRISE}:department",
        f"{ENTERPRISE}:manager.value",
        "roles",
    )

    def full_user(self, tag: str) -> dict[str, Any]:
        user = self.new_user(tag)
        user["schemas"] = [*user["schemas"], ENTERPRISE]
        user["title"] = "Auditor of Things"
        user["phoneNumbers"] = [{"value": "+1 555 0100", "type": "work"}]
        user[ENTERPRISE] = {"department": "Security", "manager": {"value": "contract-manager-id"}}
        user["roles"] = [{"value": "Auditor"}]
        return user

    def app_settings(self, root_url: str, sim_settings: Any, credentials: dict[str, str]) -> dict[str, Any]:
        return {
            "base_url": root_url,
            "credentials": {"client_id": credentials["client_id"], "client_secret": credentials["client_secret"]},
        }

    def sim_users(self, sim_settings: Any, users: int) -> Any:
        return dataclasses.replace(sim_settings, rest_users=users)
