"""Orca Security's SCIM surface (`orca-scim`) against the Orca simulator."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.outbound.errors import VendorAuthFailed
from tests.connectors.contract import ConnectorContract


class TestOrcaScimContract(ConnectorContract):
    vendor = "orca-scim"
    simulator = "orca"

    def app_settings(self, root_url: str, sim_settings: Any, credentials: dict[str, str]) -> dict[str, Any]:
        return {"base_url": f"{root_url}/scim/v2", "credentials": {"token": credentials["scim_token"]}}

    async def test_rest_token_on_the_scim_surface_is_refused_without_leaking_it(self) -> None:
        """Orca's trap: the REST API token is not the SCIM token (provisioning 'silently fails')."""
        async with self.running() as env:
            rest = env.credentials["rest_token"]
        async with self.running(credentials={"scim_token": rest}) as env:
            with pytest.raises(VendorAuthFailed) as raised:
                await env.connector.check(env.budget())
        assert rest not in str(raised.value)
