"""Reads of a directory-backed app: the vendor's resource with the directory's entry laid over it.

One indexed lookup by vendor id per GET, one per page of a list: held attributes (`full`), externalId
where the vendor has none, `meta.version` (the ETag), created/lastModified. `userName eq` and
`externalId eq` are answered by index (gateway/backed/lookup.py) plus one vendor read per match; a filter
that reads only what the vendor stores goes to the vendor; any other is evaluated here, page by page,
on the merged resources. With the database down a `link` app still reads (unversioned); a `full` app
cannot show what it holds and answers 503.
"""

from __future__ import annotations

from typing import Any

from scim2_models import ScimFilter

from gateway.backed.attributes import VendorModel, merged
from gateway.backed.lookup import filter_leaves, indexed_lookup
from gateway.config import DirectoryMode
from gateway.directory.errors import DirectoryUnavailable
from gateway.directory.records import Entry
from gateway.directory.resources import Resources
from gateway.operations import AppOperations
from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import UnknownResource
from gateway.scim.models import parse_response
from gateway.scim.prefilter import first_pass
from gateway.scim.query import ListQuery
from vendors.base import Kind, Op, Page, Resource


class DirectoryReads:
    """GET and search of one directory-backed app (`link` or `full`)."""

    def __init__(self, plain: AppOperations, resources: Resources, mode: DirectoryMode, model: VendorModel) -> None:
        self.plain = plain
        self.resources = resources
        self.mode = mode
        self.model = model
        self.schemas = plain.schemas
        self.connector = plain.connector
        self._stores_external_id = model.profile is None or "externalId" in model.profile.held

    async def get(self, budget: CallBudget, kind: Kind, resource_id: str) -> Resource:
        if kind is not Kind.USER:
            return await self.plain.get(budget, kind, resource_id)
        entry = await self._read_entry(kind, resource_id)
        return self.view(await self.plain.get(budget, kind, resource_id), entry)

    async def search(self, budget: CallBudget, kind: Kind, query: ListQuery) -> Page:
        """As AppOperations.search, on the merged resources; `userName eq` and `externalId eq` by index."""
        if kind is not Kind.USER:
            return await self.plain.search(budget, kind, query)
        lookup = indexed_lookup(query.filter)
        if lookup is not None:
            found = await self._looked_up(budget, kind, lookup.attribute, lookup.value, query)
            return found if found is not None else await self._asked_vendor(budget, kind, query)
        if query.filter is None or self._vendor_can_match(query.filter):
            page = await self.plain.search(budget, kind, query)
            return Page(total=page.total, resources=await self._merged_page(kind, page.resources))
        return await self._filtered_here(budget, kind, query)

    def _vendor_can_match(self, scim_filter: ScimFilter[Any]) -> bool:
        """Whether the filter reads only what the vendor stores (then the vendor's search, native or
        synthesised, answers it): never externalId where the vendor has none, never a held attribute."""
        read = filter_leaves(scim_filter)
        if read is None:
            return False
        if self.mode == "full" and not self._filters_natively(scim_filter):
            return False  # a held copy may stand in for a vendor value: match on what the IdP reads
        for leaf in read:
            if leaf[1].lower() == "externalid" and not leaf[0]:
                if not self._stores_external_id:
                    return False
            elif self.mode == "full" and not self.model.native(leaf):
                return False
        return True

    async def _looked_up(
        self, budget: CallBudget, kind: Kind, attribute: str, value: str, query: ListQuery
    ) -> Page | None:
        """The page for an indexed lookup; None when the vendor must be asked (an account the directory
        does not know may exist there, under a vendor-stored attribute)."""
        if attribute == "userName":
            entry = await self.resources.by_user_name(value, kind)
            entries = [entry] if entry is not None else []
        else:
            entries = await self.resources.by_external_id(kind, value)
        matches = []
        for entry in entries:
            if not entry.visible or entry.vendor_id is None:
                continue
            try:
                resource = self.view(await self.plain.get(budget, kind, entry.vendor_id), entry)
            except UnknownResource:
                continue  # gone at the vendor: reconciliation reports it; it matches nothing
            assert query.filter is not None
            if query.filter.match(parse_response(self.schemas[kind], resource)):
                matches.append(resource)
        if not matches and (attribute == "userName" or self._stores_external_id):
            return None
        start = query.start_index - 1
        return Page(total=len(matches), resources=matches[start : start + query.count])

    def _filters_natively(self, scim_filter: ScimFilter[Any]) -> bool:
        return Op.FILTER in self.plain.native.get(Kind.USER, frozenset()) and self.connector.filterable(
            Kind.USER, scim_filter
        )

    async def _asked_vendor(self, budget: CallBudget, kind: Kind, query: ListQuery) -> Page:
        """An indexed lookup the directory cannot answer: an account it does not know has only the vendor's
        values, so the vendor's search finds it (by the vendor's own filter where it has one: one call, not
        every page). Each match is merged and checked again: a held value may differ from the vendor's."""
        assert query.filter is not None
        page = await self.plain.search(budget, kind, query)
        model, scim_filter = self.schemas[kind], query.filter
        merged_page = await self._merged_page(kind, page.resources)
        matches = [resource for resource in merged_page if scim_filter.match(parse_response(model, resource))]
        return Page(total=page.total - (len(merged_page) - len(matches)), resources=matches)

    async def _filtered_here(self, budget: CallBudget, kind: Kind, query: ListQuery) -> Page:
        """Every resource, merged page by page, matched by the gateway (held attributes can be filtered on)."""
        assert query.filter is not None
        could_match = first_pass(query.filter)
        model, scim_filter = self.schemas[kind], query.filter
        matches: list[Resource] = []
        async for vendor_page in self.plain.pages(budget, kind):
            for resource in await self._merged_page(kind, vendor_page):
                if could_match is not None and not could_match(resource):
                    continue
                if scim_filter.match(parse_response(model, resource)):
                    matches.append(resource)
        start = query.start_index - 1
        return Page(total=len(matches), resources=matches[start : start + query.count])

    async def _merged_page(self, kind: Kind, resources: list[Resource]) -> list[Resource]:
        ids = [str(resource["id"]) for resource in resources if resource.get("id") is not None]
        try:
            entries = await self.resources.by_vendor_ids(kind, ids)
        except DirectoryUnavailable:
            if self.mode == "full":
                raise
            entries = {}  # link: the vendor's resources alone, unversioned, until the directory is back
        return [self.view(resource, entries.get(str(resource.get("id")))) for resource in resources]

    async def _read_entry(self, kind: Kind, vendor_id: str) -> Entry | None:
        """The entry for a read. With the database down, a `link` app still reads (the vendor's resource,
        unversioned); a `full` app cannot show what it holds, so DirectoryUnavailable (503) stands."""
        try:
            return await self.resources.by_vendor_id(kind, vendor_id)
        except DirectoryUnavailable:
            if self.mode == "full":
                raise
            return None

    def view(self, vendor: Resource, entry: Entry | None) -> Resource:
        """The resource as the IdP reads it: the vendor's, with what the directory keeps laid over it."""
        if entry is None or not entry.visible:
            if "version" not in (vendor.get("meta") or {}):
                return vendor
            return {**vendor, "meta": {k: v for k, v in vendor["meta"].items() if k != "version"}}  # not ours
        state = entry.state
        resource = merged(self.model, vendor, state.attributes, state.written) if self.mode == "full" else dict(vendor)
        if state.external_id is not None and not resource.get("externalId"):
            resource["externalId"] = state.external_id
        meta = dict(resource.get("meta") or {})
        meta["version"] = entry.etag
        meta.setdefault("created", entry.created.isoformat())
        meta.setdefault("lastModified", entry.updated.isoformat())
        resource["meta"] = meta
        return resource
