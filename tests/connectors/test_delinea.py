"""Delinea Platform's REST API (`delinea`, OAuth2 client credentials) against the Delinea simulator."""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.connectors.contract import ConnectorContract


class TestDelineaContract(ConnectorContract):
    vendor = "delinea"
    simulator = "delinea"
    user_path = "/api/v1/users"
    page_cap = 100
    seeds_many = True
    identifiers = ("client_id",)

    def app_settings(self, root_url: str, sim_settings: Any, credentials: dict[str, str]) -> dict[str, Any]:
        return {
            "base_url": root_url,
            "credentials": {"client_id": credentials["client_id"], "client_secret": credentials["client_secret"]},
        }

    def sim_users(self, sim_settings: Any, users: int) -> Any:
        return dataclasses.replace(sim_settings, rest_users=users)
