"""The account takeover policy: an IdP's create meets an account the vendor has and the directory does not.

Someone made the account in the vendor's console (or another tool did); the
IdP now creates a user with the same userName or email, and the vendor says it
exists. Adopting it silently would hand the IdP, and whoever it maps there,
an account nobody reviewed; refusing forever leaves the admin to link it by
hand. Per app, `on_existing`:

    refuse  409 uniqueness, saying the account exists outside the IdP (the default where the vendor
            has privileged roles: an adopted admin account is the takeover to prevent)
    link    adopt it: its entry is recorded with origin `adopted`, an audit record says so, and the
            IdP's create is applied to it as a PUT (201 with the result)
"""

from __future__ import annotations

from typing import Literal

import orjson

from gateway.observability.audit import AuditLog
from gateway.operations import AppOperations
from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import AlreadyExists
from gateway.scim.query import from_search_body
from vendors.base import Kind, Resource

OnExisting = Literal["link", "refuse"]


class Takeover:
    """One app's policy for creates that meet an account made outside the IdP."""

    def __init__(
        self, policy: OnExisting, plain: AppOperations, resources_label: tuple[str, str], audit: AuditLog
    ) -> None:
        self.policy = policy
        self.plain = plain
        self.tenant, self.app = resources_label
        self.audit = audit

    async def existing(self, budget: CallBudget, kind: Kind, wanted: Resource) -> Resource:
        """The vendor's account the create collided with, when the policy adopts it; else AlreadyExists (409)."""
        vendor = self.plain.connector.vendor
        found = await self._find(budget, kind, wanted)
        if found is None:
            raise AlreadyExists(f"{vendor} reports that this user already exists, and the gateway cannot find it")
        if self.policy == "refuse":
            raise AlreadyExists(
                f"an account with this userName or email already exists in {vendor}, created outside the IdP's "
                "provisioning; it is not taken over (on_existing: refuse). Remove it or link it in the vendor, "
                "or set on_existing: link for this app."
            )
        return found

    def record(self, resource_id: str) -> None:
        """The audit record of an adoption (no personal data: the ids say which account)."""
        self.audit.record(
            {
                "tenant": self.tenant,
                "app": self.app,
                "vendor": self.plain.connector.vendor,
                "operation": "adopt",
                "resource_type": Kind.USER.value,
                "resource_id": resource_id,
                "outcome": "adopted",
            }
        )

    async def _find(self, budget: CallBudget, kind: Kind, wanted: Resource) -> Resource | None:
        """The vendor's account holding the create's userName, else its work (or primary) email."""
        candidates = [("userName", wanted.get("userName"))]
        emails = [e for e in wanted.get("emails") or [] if isinstance(e, dict) and isinstance(e.get("value"), str)]
        candidates += [("emails.value", email["value"]) for email in emails[:3]]
        for attribute, value in candidates:
            if not isinstance(value, str) or not value:
                continue
            text = f"{attribute} eq {orjson.dumps(value).decode()}"
            query = from_search_body(self.plain.schemas[kind], {"filter": text, "count": 2}, 2)
            page = await self.plain.search(budget, kind, query)
            if page.resources:
                return page.resources[0]
        return None
