"""Delinea Platform's SCIM surface (`delinea-scim`): static bearer, Enterprise plans.

Absorbed traps from Delinea's guide: pages of at most 100; PATCH may answer
204 with no body (the gateway then reads the resource back); and a PUT or
PATCH that does not carry the user's externalId makes Delinea create a
duplicate user, so every user PUT/PATCH carries it, and a user created
without one is given its userName as externalId (else it could never be
correlated, and every later update would duplicate it). There is no PUT on
Groups: a group replace is sent as a PATCH.
"""

from __future__ import annotations

from typing import Any

from gateway.outbound.budget import CallBudget
from vendors.base import Kind, Op, Resource
from vendors.facts import DELINEA
from vendors.scim_passthrough import ALL_OPS, ScimPassthroughConnector


class DelineaScimConnector(ScimPassthroughConnector):
    vendor = "delinea-scim"
    facts = DELINEA
    privileged_roles = frozenset({"Administrator", "Privilege Manager"})  # as vendors/delinea.py
    capabilities = {Kind.USER: ALL_OPS, Kind.GROUP: ALL_OPS - {Op.REPLACE}}
    max_page_size = DELINEA.max_page_size

    async def create(self, budget: CallBudget, kind: Kind, resource: Resource) -> Resource:
        if kind is Kind.USER and not resource.get("externalId") and isinstance(resource.get("userName"), str):
            resource = {**resource, "externalId": resource["userName"]}
        return await super().create(budget, kind, resource)

    async def replace(
        self, budget: CallBudget, kind: Kind, resource_id: str, resource: Resource, *, current: Resource | None = None
    ) -> Resource:
        if kind is Kind.USER and "externalId" not in resource:
            if current is not None:
                external_id = current.get("externalId") if isinstance(current.get("externalId"), str) else None
            else:
                external_id = await self._stored_external_id(budget, kind, resource_id)
            if external_id is not None:
                resource = {**resource, "externalId": external_id}
        return await super().replace(budget, kind, resource_id, resource, current=current)

    async def patch(
        self, budget: CallBudget, kind: Kind, resource_id: str, operations: list[dict[str, Any]]
    ) -> Resource | None:
        if kind is Kind.USER and not any(_names_external_id(op) for op in operations):
            external_id = await self._stored_external_id(budget, kind, resource_id)
            if external_id is not None:
                operations = [*operations, {"op": "replace", "path": "externalId", "value": external_id}]
        return await super().patch(budget, kind, resource_id, operations)

    async def _stored_external_id(self, budget: CallBudget, kind: Kind, resource_id: str) -> str | None:
        value = (await self.get(budget, kind, resource_id)).get("externalId")
        return value if isinstance(value, str) else None


def _names_external_id(operation: dict[str, Any]) -> bool:
    """Whether the caller already says what externalId becomes (set, or removed on purpose)."""
    return str(operation.get("path", "")).lower() == "externalid"
