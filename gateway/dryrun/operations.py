"""DryRunOperations: AppOperations whose writes are recorded (gateway/dryrun/__init__.py says how)."""

from __future__ import annotations

from typing import Any

from scim2_models import Context

from gateway.directory.dry_runs import DryRuns, RecordedCall
from gateway.operations import AppOperations
from gateway.outbound.budget import CallBudget
from gateway.scim.models import SchemaSet, dump_request, parse_response
from gateway.scim.patch import NormalisedPatch
from vendors.base import Connector, Kind, Resource


class DryRunOperations(AppOperations):
    """Reads through `connector`; writes through `recording` (on a recording client), stored in `dry_runs`."""

    def __init__(self, connector: Connector, recording: Connector, schemas: SchemaSet, dry_runs: DryRuns) -> None:
        super().__init__(connector, schemas)
        self.writes = AppOperations(recording, schemas)
        self.dry_runs = dry_runs

    async def provision(self, budget: CallBudget, kind: Kind, resource: Resource) -> Resource:
        """201's body: the resource as sent with the id the vendor would have given (a dry-run id)."""
        stored = await self.writes.provision(budget, kind, resource)
        await self._record(budget, "create", kind)
        return _shown(kind, resource, str(stored.get("id")), None)

    async def replace(
        self, budget: CallBudget, kind: Kind, resource_id: str, resource: Resource, *, if_match: str | None = None
    ) -> Resource:
        """The resource as it would be after the PUT; UnknownResource (404) when the vendor has no such resource."""
        current = await self.get(budget, kind, resource_id)
        await self.writes.replace(budget, kind, resource_id, resource)
        await self._record(budget, "replace", kind)
        return _shown(kind, resource, resource_id, current)

    async def patch(
        self, budget: CallBudget, kind: Kind, resource_id: str, patch: NormalisedPatch, *, if_match: str | None = None
    ) -> Resource:
        """The resource as read from the vendor with the PATCH applied (what the vendor would answer)."""
        current = await self.get(budget, kind, resource_id)
        model = parse_response(self.schemas[kind], current)
        patch.apply(model)
        desired = dump_request(model, Context.RESOURCE_REPLACEMENT_REQUEST)
        await self.writes.patch(budget, kind, resource_id, patch)
        await self._record(budget, "patch", kind)
        return _shown(kind, desired, resource_id, current)

    async def delete(self, budget: CallBudget, kind: Kind, resource_id: str, *, if_match: str | None = None) -> None:
        """204, after the read that proves the resource exists (a vendor's DELETE of an unknown id: 404)."""
        await self.get(budget, kind, resource_id)
        await self.writes.delete(budget, kind, resource_id)
        await self._record(budget, "delete", kind)

    async def _record(self, budget: CallBudget, operation: str, kind: Kind) -> None:
        calls = [RecordedCall(write.method, write.path, write.query, write.body) for write in budget.recorded]
        budget.recorded.clear()
        await self.dry_runs.record(operation, kind.value, calls, budget.request_id)


def _shown(kind: Kind, desired: Resource, resource_id: str, current: Resource | None) -> Resource:
    shown: dict[str, Any] = {key: value for key, value in desired.items() if key not in ("id", "meta")}
    shown["id"] = resource_id
    meta = dict((current or {}).get("meta") or {})
    meta["resourceType"] = kind.value
    shown["meta"] = meta
    return shown
