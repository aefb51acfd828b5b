"""What one app can offer over SCIM, native where the connector declares it, synthesised otherwise.

ConnId's rule: a connector declares what the vendor does; the framework
derives the rest. get <- search (walk pages, match id); filtering <- search
all pages and evaluate the filter in the gateway; PATCH <- get + apply +
replace; replace <- get + PATCH computed from the difference. Anything else
raises NotSupported (501) before any vendor call.

A PATCH whose outcome depends on what the resource holds (a value filter
that matches nothing, gateway/scim/patch.py) is applied by the gateway even
where the vendor has PATCH, so that every app gives the same answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from scim2_models import Context

from gateway.create import create_once
from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import AlreadyExists, NotSupported, UnknownResource, VendorBadResponse, VendorRejected
from gateway.scim.models import SchemaSet, dump_request, parse_response
from gateway.scim.patch import NormalisedPatch
from gateway.scim.prefilter import first_pass
from gateway.scim.query import ListQuery, from_search_body
from vendors.base import Connector, Kind, Op, Page, Resource, SearchQuery

WALK_PAGE_SIZE = 100
MAX_WALK_PAGES = 10_000
_READ_ONLY = frozenset({"id", "meta", "schemas", "groups"})


def offered_ops(connector: type[Connector], kind: Kind) -> frozenset[Op]:
    """The operations the gateway can serve for `kind`, natively or synthesised."""
    native = connector.capabilities.get(kind, frozenset())
    offered = set(native)
    if Op.SEARCH in native:
        offered |= {Op.GET, Op.FILTER}
    readable = Op.GET in offered
    if readable and Op.REPLACE in native:
        offered.add(Op.PATCH)
    if readable and Op.PATCH in native:
        offered.add(Op.REPLACE)
    return frozenset(offered)


class AppOperations:
    """The SCIM operations of one app, over its connector."""

    def __init__(self, connector: Connector, schemas: SchemaSet) -> None:
        self.connector = connector
        self.schemas = schemas
        self.native = type(connector).capabilities
        self.offered = {kind: offered_ops(type(connector), kind) for kind in Kind}

    def require(self, kind: Kind, op: Op) -> None:
        """Raise NotSupported (501) unless `op` on `kind` can be served at all."""
        if op not in self.offered[kind]:
            raise NotSupported(_unsupported_detail(self.connector, kind, op))

    def _native(self, kind: Kind, op: Op) -> bool:
        return op in self.native.get(kind, frozenset())

    async def get(self, budget: CallBudget, kind: Kind, resource_id: str) -> Resource:
        self.require(kind, Op.GET)
        if self._native(kind, Op.GET):
            return await self.connector.get(budget, kind, resource_id)
        async for resource in self._walk(budget, kind):
            if resource.get("id") == resource_id:
                return resource
        raise UnknownResource(f"{kind.value} {resource_id!r} not found")

    async def search(self, budget: CallBudget, kind: Kind, query: ListQuery) -> Page:
        """One page of at most `query.count` resources; `total` counts every match (RFC 7644 §3.4.2.4)."""
        self.require(kind, Op.SEARCH)
        if query.filter is None or (self._native(kind, Op.FILTER) and self.connector.filterable(kind, query.filter)):
            search = SearchQuery(filter=query.filter, start_index=query.start_index, count=query.count)
            page = await self.connector.search(budget, kind, search)
            if len(page.resources) > query.count:  # a vendor that ignores `count` must not make us ignore it
                page = Page(total=page.total, resources=page.resources[: query.count])
            return page
        could_match = first_pass(query.filter)  # `userName eq`: skip validating resources that cannot match
        model, scim_filter = self.schemas[kind], query.filter
        matches = [
            r
            async for r in self._walk(budget, kind)
            if (could_match is None or could_match(r)) and scim_filter.match(parse_response(model, r))
        ]
        start = query.start_index - 1
        return Page(total=len(matches), resources=matches[start : start + query.count])

    async def create(self, budget: CallBudget, kind: Kind, resource: Resource) -> Resource:
        """Create and return the resource; raises AlreadyExists (409 uniqueness) for a taken group displayName."""
        self.require(kind, Op.CREATE)
        if kind is Kind.GROUP:
            await self._refuse_taken_display_name(budget, resource)
        return await self.connector.create(budget, kind, resource)

    async def _refuse_taken_display_name(self, budget: CallBudget, group: Resource) -> None:
        """Raise AlreadyExists when another group holds `group`'s displayName, compared without case.

        On every app, whether or not the vendor would store the duplicate: IdPs match groups by displayName,
        so two groups of one name leave them pushing members to either. RFC 7643 section 4.2 declares
        displayName caseExact false, hence no case; section 8.7.1 gives it uniqueness "none", from which this
        departs. Look-up and POST are two calls: two creates of one name racing (two replicas, or an IdP
        retrying in parallel) can both pass the look-up, and a vendor that accepts duplicates then holds
        two; the gateway narrows that window, it cannot close it. Apps that cannot list groups are left to
        the vendor.
        """
        name = group.get("displayName")
        if not isinstance(name, str) or not name or Op.SEARCH not in self.offered[Kind.GROUP]:
            return
        text = f"displayName eq {orjson.dumps(name).decode()}"
        page = await self.search(budget, Kind.GROUP, from_search_body(self.schemas[Kind.GROUP], {"filter": text}, 2))
        if any(str(found.get("displayName", "")).casefold() == name.casefold() for found in page.resources):
            raise AlreadyExists(f"a group named {name!r} already exists (group displayName must be unique)")

    async def replace(
        self, budget: CallBudget, kind: Kind, resource_id: str, resource: Resource, *, if_match: str | None = None
    ) -> Resource:
        """PUT. `if_match` is ignored: without the directory the app announces no ETags (RFC 7644 section 3.14)."""
        self.require(kind, Op.REPLACE)
        if self._native(kind, Op.REPLACE):
            return await self.connector.replace(budget, kind, resource_id, resource)
        return await self.write_back(budget, kind, resource_id, await self.get(budget, kind, resource_id), resource)

    async def provision(self, budget: CallBudget, kind: Kind, resource: Resource) -> Resource:
        """Create at most once, settling ambiguous failures by lookup (gateway/create.py)."""
        return await create_once(budget, self, kind, resource)

    async def write_back(
        self, budget: CallBudget, kind: Kind, resource_id: str, current: Resource, wanted: Resource
    ) -> Resource:
        """Make the resource read `current` become `wanted`: PUT where the vendor has it, else the PATCH difference.

        `current` must have been read for this write (the connector takes it as the resource's state)."""
        if self._native(kind, Op.REPLACE):
            return await self.connector.replace(budget, kind, resource_id, wanted, current=current)
        result = await self.connector.patch(budget, kind, resource_id, _difference(current, wanted))
        return result if result is not None else await self.get(budget, kind, resource_id)

    async def patch(
        self, budget: CallBudget, kind: Kind, resource_id: str, patch: NormalisedPatch, *, if_match: str | None = None
    ) -> Resource:
        """Apply a PATCH and return the resource as it now is (RFC 7644 section 3.5.2); `if_match` ignored.

        Forwarded where the vendor has PATCH. An `add`/`replace` through a value filter is checked against
        the resource first: if a filter matches nothing, the gateway applies the PATCH itself (read, apply,
        write back), so every app creates the entry the filter describes (one read and one write either
        way). A vendor `noTarget` to a forwarded filtered PATCH (PATCH is atomic: it changed nothing) is
        answered the same way, so a remove that matches nothing is a no-op everywhere.
        """
        self.require(kind, Op.PATCH)
        current: Resource | None = None
        if self._native(kind, Op.PATCH):
            if patch.needs_current:
                current = await self.get(budget, kind, resource_id)
            if current is None or patch.selects_existing(parse_response(self.schemas[kind], current)):
                try:
                    result = await self.connector.patch(budget, kind, resource_id, patch.operations)
                except VendorRejected as exc:
                    if exc.scim_type != "noTarget" or not patch.filtered:
                        raise
                    current = None
                else:
                    return result if result is not None else await self.get(budget, kind, resource_id)
        return await self._apply_here(budget, kind, resource_id, patch, current)

    async def _apply_here(
        self, budget: CallBudget, kind: Kind, resource_id: str, patch: NormalisedPatch, current: Resource | None
    ) -> Resource:
        """PATCH synthesised: apply to the resource (`current`, or read now) in the gateway and write it back."""
        if current is None:
            current = await self.get(budget, kind, resource_id)
        model = parse_response(self.schemas[kind], current)
        patch.apply(model)
        return await self.write_back(
            budget, kind, resource_id, current, dump_request(model, Context.RESOURCE_REPLACEMENT_REQUEST)
        )

    async def delete(self, budget: CallBudget, kind: Kind, resource_id: str, *, if_match: str | None = None) -> None:
        """DELETE; `if_match` ignored (no ETags without the directory)."""
        self.require(kind, Op.DELETE)
        await self.connector.delete(budget, kind, resource_id)

    async def _walk(self, budget: CallBudget, kind: Kind) -> AsyncIterator[Resource]:
        """Every resource of `kind`; never a silently truncated list."""
        async for page in self.pages(budget, kind):
            for resource in page:
                yield resource

    async def pages(self, budget: CallBudget, kind: Kind) -> AsyncIterator[list[Resource]]:
        """Every resource of `kind`, page by page as the vendor serves them; raises VendorBadResponse
        rather than end a listing that does not end."""
        start, seen = 1, 0
        for _ in range(MAX_WALK_PAGES):
            page = await self.connector.search(budget, kind, SearchQuery(start_index=start, count=WALK_PAGE_SIZE))
            yield page.resources
            seen += len(page.resources)
            if not page.resources or seen >= page.total:
                return
            start += len(page.resources)
        raise VendorBadResponse(f"{self.connector.vendor}: listing {kind.value} did not end")


def _difference(current: Resource, wanted: Resource) -> list[dict[str, Any]]:
    """PATCH operations that turn `current` into `wanted` (for vendors without PUT)."""
    replaced = {k: v for k, v in wanted.items() if k not in _READ_ONLY and current.get(k) != v}
    removed = [k for k in current if k not in _READ_ONLY and k not in wanted]
    operations: list[dict[str, Any]] = [{"op": "remove", "path": key} for key in removed]
    if replaced:
        operations.append({"op": "replace", "value": replaced})
    return operations or [{"op": "replace", "value": {}}]


def _unsupported_detail(connector: Connector, kind: Kind, op: Op) -> str:
    if connector.unsupported_reason:
        return connector.unsupported_reason
    verb = {
        Op.GET: "read",
        Op.SEARCH: "list",
        Op.FILTER: "filter",
        Op.CREATE: "create",
        Op.REPLACE: "replace",
        Op.PATCH: "modify",
        Op.DELETE: "delete",
    }[op]
    return f"{connector.vendor} cannot {verb} {kind.value} resources through the gateway"
