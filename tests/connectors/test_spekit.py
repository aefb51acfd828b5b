"""Spekit (`spekit`) against the Spekit simulator, which ignores startIndex and count."""

from __future__ import annotations

from typing import Any

from tests.connectors.contract import ConnectorContract


class TestSpekitContract(ConnectorContract):
    vendor = "spekit"
    simulator = "spekit"

    def app_settings(self, root_url: str, sim_settings: Any, credentials: dict[str, str]) -> dict[str, Any]:
        return {
            "base_url": f"{root_url}/scim/{sim_settings.tenant_key}/v2",
            "credentials": {"token": credentials["scim_token"]},
        }
