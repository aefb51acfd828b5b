"""Darktrace (`darktrace`): no user API, so only the HMAC-signed connectivity check and 501 everywhere."""

from __future__ import annotations

from typing import Any

from tests.connectors.contract import ConnectorContract
from vendors.base import Kind, Op


class TestDarktraceContract(ConnectorContract):
    vendor = "darktrace"
    simulator = "darktrace"
    auth_scheme = "DTAPI-HMAC"

    def app_settings(self, root_url: str, sim_settings: Any, credentials: dict[str, str]) -> dict[str, Any]:
        return {
            "base_url": root_url,
            "credentials": {
                "public_token": credentials["public_token"],
                "private_token": credentials["private_token"],
            },
        }

    def test_announces_no_operation(self) -> None:
        assert not any(self.cls.supports(kind, op) for kind in Kind for op in Op)
        assert self.cls.unsupported_reason and "Darktrace" in self.cls.unsupported_reason
