"""Delinea Platform REST API (`delinea`): users through /api/v1 with OAuth2 client credentials.

For tenants without Delinea's Enterprise SCIM. Absorbed from Delinea's guide:
short-lived tokens from /identity/connect/token with least privilege
(`delinea:api:read` for reads, `write` for changes, `admin` only when a
change assigns roles); skip/take paging capped at 100, so a larger SCIM
`count` is served by several upstream pages fetched concurrently; only
`userName eq` filters go upstream (the gateway evaluates the rest); 429 with
no Retry-After. DELETE is permanent; PATCH `active: false` deactivates.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator
from scim2_models import ScimFilter
from scim2_models.path import CompareOperator, Comparison

from gateway.outbound.auth import VendorAuth
from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import VendorBadResponse
from gateway.outbound.oauth import ClientCredentialsAuth
from vendors.base import Connector, ConnectorSettings, Kind, Op, Page, Resource, SearchQuery, quote_id
from vendors.facts import DELINEA
from vendors.profile import AttributeProfile

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SCOPES = {
    "read": "delinea:api:read",
    "write": "delinea:api:write",
    "admin": "delinea:api:write delinea:api:admin",
}
MAX_TAKE = DELINEA.max_page_size or 100
_CONCURRENT_PAGES = 4
_COPIED = ("userName", "displayName", "active", "externalId", "title")
#: Delinea's user model (its guide's table), as SCIM attribute names; discovery announces only these.
HELD = frozenset(
    {
        *("userName", "displayName", "title", "active", "name.givenName", "name.familyName"),
        *(f"{attr}.{sub}" for attr in ("emails", "phoneNumbers") for sub in ("value", "type", "primary")),
        *("roles.value", "groups.value", "groups.display"),
        f"{ENTERPRISE}:department",
        f"{ENTERPRISE}:manager.value",
    }
)
#: "Email is required for notification delivery": Delinea refuses a create without one. Every Delinea
#: user is enabled or not ("defaults true"): `active` is always there, so it cannot be removed.
REQUIRED = frozenset({"emails", "emails.value", "active"})


class DelineaCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    client_id: SecretStr
    client_secret: SecretStr


class DelineaSettings(ConnectorSettings):
    """`base_url` is the tenant root, e.g. https://acme.delinea.app (or give `tenant: acme`)."""

    base_url: str | None = None
    tenant: str | None = None
    credentials: DelineaCredentials
    #: The tenant's platform role names (Delinea refuses others); announced as the canonical `roles` values.
    roles: tuple[str, ...] | None = None

    @field_validator("base_url")
    @classmethod
    def _is_http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/") if value else value


def tenant_root(settings: DelineaSettings) -> str:
    if settings.base_url:
        return settings.base_url
    if settings.tenant:
        return f"https://{settings.tenant}.delinea.app"
    raise ValueError("set base_url (https://<tenant>.delinea.app) or tenant")


def to_scim(user: dict[str, Any]) -> Resource:
    """A Delinea REST user as a SCIM User (RFC 7643 section 4.1, Enterprise extension 4.3)."""
    if not isinstance(user.get("id"), str):
        raise VendorBadResponse("Delinea returned a user without an id")
    scim: Resource = {"schemas": [USER_SCHEMA], "id": user["id"]}
    scim.update({key: user[key] for key in _COPIED if user.get(key) is not None})
    for key in ("name", "emails", "phoneNumbers"):
        if user.get(key):
            scim[key] = user[key]
    if user.get("roles"):
        scim["roles"] = [{"value": role} for role in user["roles"]]
    if user.get("groups"):
        scim["groups"] = user["groups"]
    enterprise = {key: user[key] for key in ("department", "manager") if user.get(key)}
    if enterprise:
        scim["schemas"] = [USER_SCHEMA, ENTERPRISE]
        scim[ENTERPRISE] = enterprise
    meta = user.get("meta") or {}
    scim["meta"] = {"resourceType": "User", **{k: meta[k] for k in ("created", "lastModified") if k in meta}}
    return scim


def from_scim(scim: Resource) -> dict[str, Any]:
    """The Delinea REST body for a full SCIM User; absent attributes are sent as null to clear them."""
    enterprise = scim.get(ENTERPRISE) or {}
    manager = enterprise.get("manager")
    return {
        **{key: scim.get(key) for key in _COPIED},
        "active": scim.get("active", True),
        "name": _name(scim.get("name")),
        "emails": _multi(scim.get("emails")),
        "phoneNumbers": _multi(scim.get("phoneNumbers")),
        "roles": [role["value"] for role in scim.get("roles") or [] if role.get("value")] or None,
        "department": enterprise.get("department"),
        "manager": {"value": manager["value"]} if isinstance(manager, dict) and manager.get("value") else None,
    }


def _multi(items: Any) -> list[dict[str, Any]] | None:
    """SCIM multi-valued attributes as Delinea holds them: value, type, primary (no display)."""
    if not isinstance(items, list):
        return None
    kept = [{k: item[k] for k in ("value", "type", "primary") if item.get(k) is not None} for item in items]
    return [item for item in kept if isinstance(item.get("value"), str)] or None


def _name(name: Any) -> dict[str, Any] | None:
    if not isinstance(name, dict):
        return None
    parts = {key: name[key] for key in ("givenName", "familyName") if name.get(key)}
    return parts or None


class DelineaConnector(Connector):
    vendor = "delinea"
    facts = DELINEA
    Settings = DelineaSettings
    capabilities = {Kind.USER: frozenset({Op.GET, Op.SEARCH, Op.FILTER, Op.CREATE, Op.REPLACE, Op.DELETE})}
    # Every operation on Users is offered (PATCH synthesised), so a 501 here is always about Groups.
    #: Platform roles that administer the tenant or its privileged accounts (the role-assigning calls need
    #: the delinea:api:admin scope, vendor-docs/delinea.txt); the simulator's role list names them so.
    privileged_roles = frozenset({"Administrator", "Privilege Manager"})
    unsupported_reason = (
        "the Delinea REST app serves Users only: assign platform roles through the user's `roles` attribute,"
        " or push groups through a delinea-scim app (Delinea's SCIM, Enterprise plan)"
    )

    @classmethod
    def base_url(cls, settings: Any) -> str:
        return tenant_root(settings) + (DELINEA.rest_path or "/api/v1")

    @classmethod
    def user_profile(cls, settings: Any) -> AttributeProfile:
        canonical = {"roles.value": tuple(settings.roles)} if settings.roles else {}
        return AttributeProfile(held=HELD, required=REQUIRED, canonical=canonical)

    @classmethod
    def vendor_auth(cls, settings: Any) -> VendorAuth:
        return ClientCredentialsAuth(
            token_url=tenant_root(settings) + "/identity/connect/token",
            client_id=settings.credentials.client_id.get_secret_value(),
            client_secret=settings.credentials.client_secret,
            scopes=SCOPES,
            default_scope=SCOPES["read"],
        )

    def filterable(self, kind: Kind, scim_filter: ScimFilter[Any]) -> bool:
        return _username_equals(scim_filter) is not None

    async def get(self, budget: CallBudget, kind: Kind, resource_id: str) -> Resource:
        response = await self.upstream.request(
            "GET", f"/users/{quote_id(resource_id)}", ok=(200,), scope="read", budget=budget
        )
        return to_scim(response.json())

    async def search(self, budget: CallBudget, kind: Kind, query: SearchQuery) -> Page:
        """SCIM startIndex/count as skip/take pages of at most 100 (RFC 7644 section 3.4.2.4).

        The first page tells the total; the rest of the window (only as far as
        the total reaches) is fetched concurrently, at most _CONCURRENT_PAGES at once.
        """
        skip = query.start_index - 1
        first = await self._page(budget, query, skip, min(query.count, MAX_TAKE))
        end = min(skip + query.count, first.total)
        start = skip + len(first.resources)  # not skip + 100: a short first page must leave no gap
        if not first.resources or start >= end:
            return first
        limiter = asyncio.Semaphore(_CONCURRENT_PAGES)

        async def one(offset: int) -> Page:
            async with limiter:
                return await self._page(budget, query, offset, min(MAX_TAKE, end - offset))

        rest = await asyncio.gather(*(one(offset) for offset in range(start, end, MAX_TAKE)))
        return Page(total=first.total, resources=[r for page in (first, *rest) for r in page.resources])

    async def _page(self, budget: CallBudget, query: SearchQuery, skip: int, take: int) -> Page:
        params = {"skip": str(skip), "take": str(max(take, 1))}
        user_name = _username_equals(query.filter) if query.filter is not None else None
        if user_name is not None:
            params["filter"] = "userName eq '{}'".format(user_name.replace("'", "''"))
        body = (
            await self.upstream.request("GET", "/users", params=params, ok=(200,), scope="read", budget=budget)
        ).json()
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise VendorBadResponse(f"app {self.upstream.app!r}: Delinea's user list is malformed")
        users = body["data"][:take] if take else []
        return Page(total=int(body.get("total", len(users))), resources=[to_scim(user) for user in users])

    async def create(self, budget: CallBudget, kind: Kind, resource: Resource) -> Resource:
        body = {key: value for key, value in from_scim(resource).items() if value is not None}
        scope = "admin" if body.get("roles") else "write"
        response = await self.upstream.request("POST", "/users", json=body, ok=(200, 201), scope=scope, budget=budget)
        return to_scim(response.json())

    async def replace(
        self, budget: CallBudget, kind: Kind, resource_id: str, resource: Resource, *, current: Resource | None = None
    ) -> Resource:
        if current is None:
            current = await self.get(budget, kind, resource_id)
        body = from_scim(resource)
        scope = "admin" if sorted(_roles(current)) != sorted(body.get("roles") or []) else "write"
        if scope == "write":
            body.pop("roles")  # unchanged: leave role assignment alone, and need no admin scope
        path = f"/users/{quote_id(resource_id)}"
        response = await self.upstream.request("PATCH", path, json=body, ok=(200,), scope=scope, budget=budget)
        return to_scim(response.json())

    async def delete(self, budget: CallBudget, kind: Kind, resource_id: str) -> None:
        await self.upstream.request(
            "DELETE", f"/users/{quote_id(resource_id)}", ok=(200, 204), scope="write", budget=budget
        )


def _roles(scim: Resource) -> list[str]:
    return [role["value"] for role in scim.get("roles") or [] if role.get("value")]


def _username_equals(scim_filter: ScimFilter[Any]) -> str | None:
    """The value of a plain `userName eq "x"` filter, the one filter Delinea evaluates."""
    node = scim_filter.ast
    if (
        isinstance(node, Comparison)
        and node.op is CompareOperator.eq
        and node.attr_path.attr.lower() == "username"
        and node.attr_path.sub_attr is None
        and node.attr_path.uri in (None, USER_SCHEMA)
        and isinstance(node.value, str)
    ):
        return node.value
    return None
