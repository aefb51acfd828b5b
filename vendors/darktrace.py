"""Darktrace (`darktrace`): no user-management API and no SCIM, so nothing is announced.

The connector exists so an IdP pointed at Darktrace gets a clear answer: its
discovery announces no resource type, and every user or group operation is
501 with what the admin should do instead. Its connectivity check exercises
Darktrace's HMAC signing against the appliance's /time endpoint, which proves
the credentials for the day a user API appears.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from gateway.outbound.auth import VendorAuth
from gateway.outbound.budget import CallBudget
from vendors.base import Connector, ConnectorSettings
from vendors.facts import DARKTRACE
from vendors.hmac_auth import HmacAuth


class DarktraceCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    public_token: SecretStr
    private_token: SecretStr


class DarktraceSettings(ConnectorSettings):
    """`base_url` is your Darktrace instance (cloud or appliance), e.g. https://acme.darktrace.com."""

    base_url: str
    credentials: DarktraceCredentials

    @field_validator("base_url")
    @classmethod
    def _is_http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")


class DarktraceConnector(Connector):
    vendor = "darktrace"
    facts = DARKTRACE
    Settings = DarktraceSettings
    capabilities = {}
    unsupported_reason = (
        "Darktrace has no user-management API and no SCIM: users cannot be provisioned through the gateway. "
        "Manage Darktrace users in the Darktrace console (System Config > Users), or use SAML SSO with "
        "group-based permissions from your IdP; turn off provisioning for this app in the IdP."
    )

    @classmethod
    def base_url(cls, settings: Any) -> str:
        return str(settings.base_url)

    @classmethod
    def vendor_auth(cls, settings: Any) -> VendorAuth:
        return HmacAuth(settings.credentials.public_token, settings.credentials.private_token)

    async def check(self, budget: CallBudget) -> None:
        """Signed GET /time: the appliance answers only if the HMAC signature and date are right."""
        await self.upstream.request("GET", "/time", ok=(200,), budget=budget)
