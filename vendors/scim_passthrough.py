"""The generic connector for vendors that speak SCIM 2.0 themselves.

Requests are forwarded as RFC-form SCIM (the gateway has already validated and
normalised them); each vendor module subclasses this with its profile: the
operations the vendor really has (`capabilities`), its page-size cap, whether
it paginates at all, and how it spells filters.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from gateway.outbound.auth import StaticTokenAuth, VendorAuth
from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import VendorBadResponse
from vendors.base import Connector, ConnectorSettings, Kind, Op, Page, Resource, SearchQuery, quote_id

ALL_OPS = frozenset(Op)
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
_CONCURRENT_PAGES = 4


class BearerCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    token: SecretStr


class ScimSettings(ConnectorSettings):
    """`base_url` is the vendor's SCIM root (ending in /v2), or `region` picks a documented host."""

    base_url: str | None = None
    region: str | None = None
    credentials: BearerCredentials

    @field_validator("base_url")
    @classmethod
    def _is_http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/") if value else value


class ScimPassthroughConnector(Connector):
    """Forwards SCIM to a SCIM-speaking vendor, absorbing its profile's quirks."""

    Settings = ScimSettings
    capabilities = {Kind.USER: ALL_OPS, Kind.GROUP: ALL_OPS}
    #: The vendor silently serves at most this many resources per page (None: no cap).
    max_page_size: ClassVar[int | None] = None
    #: False when the vendor ignores startIndex/count and always returns everything.
    paginates: ClassVar[bool] = True

    @classmethod
    def base_url(cls, settings: Any) -> str:
        if settings.base_url:
            return str(settings.base_url)
        regions = cls.facts.regions
        if settings.region in regions and cls.facts.scim_path:
            return regions[settings.region] + cls.facts.scim_path
        known = ", ".join(sorted(regions)) or "none documented"
        raise ValueError(f"set base_url, or region to one of: {known}")

    @classmethod
    def vendor_auth(cls, settings: Any) -> VendorAuth:
        return StaticTokenAuth(settings.credentials.token, scheme="Bearer")

    def render_filter(self, query: SearchQuery) -> str | None:
        """The filter as the vendor spells it (RFC spelling by default)."""
        return None if query.filter is None else str(query.filter)

    async def get(self, budget: CallBudget, kind: Kind, resource_id: str) -> Resource:
        response = await self.upstream.request("GET", _resource_path(kind, resource_id), ok=(200,), budget=budget)
        return _as_resource(response.json())

    async def search(self, budget: CallBudget, kind: Kind, query: SearchQuery) -> Page:
        if not self.paginates:
            page = await self._fetch_page(budget, kind, query, start_index=1, count=None)
            window = page.resources[query.start_index - 1 : query.start_index - 1 + query.count]
            return Page(total=page.total, resources=window)
        cap = self.max_page_size
        if cap is None or query.count <= cap:
            return await self._fetch_page(budget, kind, query, query.start_index, query.count)
        return await self._fetch_pages(budget, kind, query, cap)

    async def _fetch_pages(self, budget: CallBudget, kind: Kind, query: SearchQuery, cap: int) -> Page:
        """Serve a count above the vendor's cap with several pages, a few at a time."""
        starts = range(query.start_index, query.start_index + query.count, cap)
        limiter = asyncio.Semaphore(_CONCURRENT_PAGES)

        async def one(start: int) -> Page:
            async with limiter:
                size = min(cap, query.start_index + query.count - start)
                return await self._fetch_page(budget, kind, query, start, size)

        pages = await asyncio.gather(*(one(start) for start in starts))
        resources = [resource for page in pages for resource in page.resources]
        return Page(total=pages[0].total, resources=resources[: query.count])

    async def _fetch_page(
        self, budget: CallBudget, kind: Kind, query: SearchQuery, start_index: int, count: int | None
    ) -> Page:
        params = {"startIndex": str(start_index)}
        if count is not None:
            params["count"] = str(count)
        text = self.render_filter(query)
        if text:
            params["filter"] = text
        response = await self.upstream.request("GET", kind.endpoint, params=params, ok=(200,), budget=budget)
        body = response.json()
        resources = body.get("Resources", []) if isinstance(body, dict) else None
        if not isinstance(resources, list):
            raise VendorBadResponse(f"app {self.upstream.app!r}: the vendor's list response is malformed")
        total = body.get("totalResults", len(resources))
        return Page(total=int(total), resources=[_as_resource(r) for r in resources])

    async def create(self, budget: CallBudget, kind: Kind, resource: Resource) -> Resource:
        response = await self.upstream.request("POST", kind.endpoint, json=resource, ok=(200, 201), budget=budget)
        return _as_resource(response.json())

    async def replace(
        self, budget: CallBudget, kind: Kind, resource_id: str, resource: Resource, *, current: Resource | None = None
    ) -> Resource:
        path = _resource_path(kind, resource_id)
        response = await self.upstream.request("PUT", path, json=resource, ok=(200,), budget=budget)
        return _as_resource(response.json())

    async def patch(
        self, budget: CallBudget, kind: Kind, resource_id: str, operations: list[dict[str, Any]]
    ) -> Resource | None:
        message = {"schemas": [PATCH_SCHEMA], "Operations": operations}
        path = _resource_path(kind, resource_id)
        response = await self.upstream.request("PATCH", path, json=message, ok=(200, 204), budget=budget)
        if response.status == 204 or not response.body:
            return None
        return _as_resource(response.json())

    async def delete(self, budget: CallBudget, kind: Kind, resource_id: str) -> None:
        await self.upstream.request("DELETE", _resource_path(kind, resource_id), ok=(200, 204), budget=budget)


def _resource_path(kind: Kind, resource_id: str) -> str:
    return f"{kind.endpoint}/{quote_id(resource_id)}"


def _as_resource(body: Any) -> Resource:
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise VendorBadResponse("the vendor returned a resource without an id")
    return body
