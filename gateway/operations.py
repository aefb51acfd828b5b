"""What one app can offer over SCIM, native where the connector declares it, synthesised otherwise.

ConnId's rule: a connector declares what the vendor does; the framework
derives the rest. get <- search (walk pages, match id); filtering <- search
all pages and evaluate the filter in the gateway; PATCH <- get + apply +
replace; replace <- get + PATCH computed from the difference. Anything else
raises NotSupported (501) before any vendor call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scim2_models import Context

from gateway.scim.models import SchemaSet, dump_request, parse_response
from gateway.scim.patch import NormalisedPatch
from gateway.scim.prefilter import first_pass
from gateway.scim.query import ListQuery
from vendors.base import Connector, Kind, Op, Page, Resource, SearchQuery
from vendors.errors import NotSupported, UnknownResource, VendorBadResponse

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

    async def get(self, kind: Kind, resource_id: str) -> Resource:
        self.require(kind, Op.GET)
        if self._native(kind, Op.GET):
            return await self.connector.get(kind, resource_id)
        async for resource in self._walk(kind):
            if resource.get("id") == resource_id:
                return resource
        raise UnknownResource(f"{kind.value} {resource_id!r} not found")

    async def search(self, kind: Kind, query: ListQuery) -> Page:
        """One page of at most `query.count` resources; `total` counts every match (RFC 7644 §3.4.2.4)."""
        self.require(kind, Op.SEARCH)
        if query.filter is None or (self._native(kind, Op.FILTER) and self.connector.filterable(kind, query.filter)):
            search = SearchQuery(filter=query.filter, start_index=query.start_index, count=query.count)
            page = await self.connector.search(kind, search)
            if len(page.resources) > query.count:  # a vendor that ignores `count` must not make us ignore it
                page = Page(total=page.total, resources=page.resources[: query.count])
            return page
        could_match = first_pass(query.filter)  # `userName eq`: skip validating resources that cannot match
        model, scim_filter = self.schemas[kind], query.filter
        matches = [
            r
            async for r in self._walk(kind)
            if (could_match is None or could_match(r)) and scim_filter.match(parse_response(model, r))
        ]
        start = query.start_index - 1
        return Page(total=len(matches), resources=matches[start : start + query.count])

    async def create(self, kind: Kind, resource: Resource) -> Resource:
        self.require(kind, Op.CREATE)
        return await self.connector.create(kind, resource)

    async def replace(self, kind: Kind, resource_id: str, resource: Resource) -> Resource:
        self.require(kind, Op.REPLACE)
        if self._native(kind, Op.REPLACE):
            return await self.connector.replace(kind, resource_id, resource)
        current = await self.get(kind, resource_id)
        result = await self.connector.patch(kind, resource_id, _difference(current, resource))
        return result if result is not None else await self.get(kind, resource_id)

    async def patch(self, kind: Kind, resource_id: str, patch: NormalisedPatch) -> Resource:
        """Apply a PATCH and return the resource as it now is (RFC 7644 section 3.5.2)."""
        self.require(kind, Op.PATCH)
        if self._native(kind, Op.PATCH):
            result = await self.connector.patch(kind, resource_id, patch.operations)
            return result if result is not None else await self.get(kind, resource_id)
        model = parse_response(self.schemas[kind], await self.get(kind, resource_id))
        patch.apply(model)
        body = dump_request(model, Context.RESOURCE_REPLACEMENT_REQUEST)
        return await self.connector.replace(kind, resource_id, body)

    async def delete(self, kind: Kind, resource_id: str) -> None:
        self.require(kind, Op.DELETE)
        await self.connector.delete(kind, resource_id)

    async def _walk(self, kind: Kind) -> AsyncIterator[Resource]:
        """Every resource of `kind`, page by page; never a silently truncated list."""
        start, seen = 1, 0
        for _ in range(MAX_WALK_PAGES):
            page = await self.connector.search(kind, SearchQuery(start_index=start, count=WALK_PAGE_SIZE))
            for resource in page.resources:
                yield resource
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
