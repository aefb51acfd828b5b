"""Orca Security REST API (`orca`): users via /api/rbac/users with `Authorization: Token <key>`.

For tenants without Orca's Enterprise SCIM. Absorbed from Orca's guide:
the REST token uses the `Token` scheme (not Bearer) and is not the SCIM
token; regional hosts; paging is undocumented, so every list walks pages
until an empty one and is never silently truncated; there is no server-side
filter (the gateway filters); creation may only *invite* (the response says
so: `active` true with the Orca status `invited` in our extension); REST
reads are eventually consistent, so every write is confirmed by reading the
user back. Orca roles are exposed twice: as the user's `roles` and as one
SCIM Group per role, so an IdP's group push assigns Orca roles.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from scim2_models import URN, Extension, Mutability

from vendors.auth import StaticTokenAuth, VendorAuth
from vendors.base import Connector, ConnectorSettings, Kind, Op, Page, Resource, SearchQuery, quote_id
from vendors.errors import UnknownResource, VendorBadResponse, VendorRejected
from vendors.facts import ORCA

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ORCA_SCHEMA = "urn:ietf:params:scim:schemas:extension:scim-gateway:orca:2.0:User"
PAGE_LIMIT = 100
CONFIRM_ATTEMPTS = 4


class OrcaUser(Extension):
    """What Orca knows of a user beyond SCIM: its account status (`invited` until the user accepts)."""

    __schema__ = URN(ORCA_SCHEMA)

    status: Annotated[str | None, Mutability.read_only] = None
    """Orca's own status of the account: active, invited or inactive."""


class OrcaCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    token: SecretStr


class OrcaOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Orca's platform-defined roles, each served as a SCIM Group.
    roles: tuple[str, ...] = ("Admin", "Viewer")
    #: The role given to new users and to users removed from every role group.
    default_role: str = "Viewer"
    #: What a SCIM DELETE does: `delete` (permanent, RFC 7644 section 3.6) or `deactivate` (status inactive).
    delete_mode: Literal["delete", "deactivate"] = "delete"


class OrcaSettings(ConnectorSettings):
    base_url: str | None = None
    region: str | None = None
    credentials: OrcaCredentials
    options: OrcaOptions = Field(default_factory=OrcaOptions)

    @field_validator("base_url")
    @classmethod
    def _is_http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/") if value else value


def to_scim(user: dict[str, Any]) -> Resource:
    """An Orca user {id, email, name, role, status} as a SCIM User."""
    if not isinstance(user.get("id"), str) or not isinstance(user.get("email"), str):
        raise VendorBadResponse("Orca returned a user without an id or email")
    status = user.get("status") or "active"
    scim: Resource = {
        "schemas": [USER_SCHEMA, ORCA_SCHEMA],
        "id": user["id"],
        "userName": user["email"],
        "emails": [{"value": user["email"], "type": "work", "primary": True}],
        "active": status != "inactive",
        ORCA_SCHEMA: {"status": status},
        "meta": {"resourceType": "User"},
    }
    if user.get("name"):
        scim["displayName"] = user["name"]
        scim["name"] = {"formatted": user["name"]}
    if user.get("role"):
        scim["roles"] = [{"value": user["role"], "primary": True}]
        scim["groups"] = [{"value": user["role"], "display": user["role"], "type": "direct"}]
    return scim


def from_scim(scim: Resource, default_role: str) -> dict[str, Any]:
    """The Orca fields a SCIM User sets: email from userName, name, role, status."""
    name = scim.get("displayName") or _formatted(scim.get("name"))
    roles = [role.get("value") for role in scim.get("roles") or [] if role.get("value")]
    primary = next((r.get("value") for r in scim.get("roles") or [] if r.get("primary") and r.get("value")), None)
    body: dict[str, Any] = {"email": scim.get("userName"), "role": primary or (roles[0] if roles else default_role)}
    if name:
        body["name"] = name
    body["status"] = "active" if scim.get("active", True) else "inactive"
    return body


def _formatted(name: Any) -> str | None:
    if not isinstance(name, dict):
        return None
    parts = [name.get("givenName"), name.get("familyName")]
    return name.get("formatted") or " ".join(part for part in parts if part) or None


class OrcaConnector(Connector):
    vendor = "orca"
    facts = ORCA
    Settings = OrcaSettings
    user_extensions = (OrcaUser,)
    capabilities = {
        Kind.USER: frozenset({Op.GET, Op.SEARCH, Op.CREATE, Op.REPLACE, Op.DELETE}),
        Kind.GROUP: frozenset({Op.GET, Op.SEARCH, Op.REPLACE}),
    }

    @classmethod
    def base_url(cls, settings: Any) -> str:
        if settings.base_url:
            return settings.base_url
        if settings.region in ORCA.regions:
            return ORCA.regions[settings.region] + (ORCA.rest_path or "/api")
        raise ValueError(f"set base_url, or region to one of: {', '.join(sorted(ORCA.regions))}")

    @classmethod
    def vendor_auth(cls, settings: Any) -> VendorAuth:
        return StaticTokenAuth(settings.credentials.token, scheme="Token")

    @property
    def options(self) -> OrcaOptions:
        return self.settings.options  # type: ignore[attr-defined,no-any-return]

    async def get(self, kind: Kind, resource_id: str) -> Resource:
        if kind is Kind.GROUP:
            return await self._role_group(resource_id)
        return to_scim(await self._read_user(resource_id))

    async def search(self, kind: Kind, query: SearchQuery) -> Page:
        users = await self._all()
        if kind is Kind.GROUP:
            return _window([await self._role_group(role, users) for role in self.options.roles], query)
        return _window([to_scim(user) for user in users], query)

    async def create(self, kind: Kind, resource: Resource) -> Resource:
        wanted = from_scim(resource, self.options.default_role)
        self._check_role(wanted["role"])
        invite = {key: wanted[key] for key in ("email", "role", "name") if key in wanted}
        created = (await self.upstream.request("POST", "/rbac/users", json=invite, ok=(200, 201))).json()
        if not isinstance(created, dict) or not isinstance(created.get("id"), str):
            raise VendorBadResponse(f"app {self.upstream.app!r}: Orca's invite answer has no id")
        if wanted["status"] == "inactive":
            await self._patch_user(created["id"], {"status": "inactive"})
            invite["status"] = "inactive"
        return to_scim(await self._confirmed(created["id"], invite))

    async def replace(self, kind: Kind, resource_id: str, resource: Resource) -> Resource:
        if kind is Kind.GROUP:
            return await self._replace_role_group(resource_id, resource)
        current = await self._read_user(resource_id)
        wanted = from_scim(resource, current.get("role") or self.options.default_role)
        self._check_role(wanted["role"])
        if current.get("status") == "invited" and wanted["status"] == "active":
            del wanted["status"]  # an invited user stays invited until it accepts
        changes = {key: value for key, value in wanted.items() if current.get(key) != value}
        if changes:
            await self._patch_user(resource_id, changes)
        return to_scim(await self._confirmed(resource_id, changes))

    async def delete(self, kind: Kind, resource_id: str) -> None:
        if self.options.delete_mode == "deactivate":
            await self._patch_user(resource_id, {"status": "inactive"})
            return
        await self.upstream.request("DELETE", f"/rbac/users/{quote_id(resource_id)}", ok=(200, 204))

    async def _read_user(self, user_id: str) -> dict[str, Any]:
        user = (await self.upstream.request("GET", f"/rbac/users/{quote_id(user_id)}", ok=(200,))).json()
        if not isinstance(user, dict):
            raise VendorBadResponse(f"app {self.upstream.app!r}: Orca's user answer is malformed")
        return user

    async def _patch_user(self, user_id: str, changes: dict[str, Any]) -> None:
        await self.upstream.request("PATCH", f"/rbac/users/{quote_id(user_id)}", json=changes, ok=(200, 204))

    async def _confirmed(self, user_id: str, expected: dict[str, Any]) -> dict[str, Any]:
        """Read the user back until it shows `expected` (Orca's reads lag its writes)."""
        user: dict[str, Any] = {}
        for attempt in range(CONFIRM_ATTEMPTS):
            user = await self._read_user(user_id)
            if all(user.get(key) == value for key, value in expected.items()):
                return user
            await asyncio.sleep(0.05 * 2**attempt)
        return {**user, **expected}

    async def _all(self) -> list[dict[str, Any]]:
        """Every Orca user: pages until an empty one, since Orca gives no total and may cap silently."""
        users: list[dict[str, Any]] = []
        while True:
            params = {"offset": str(len(users)), "limit": str(PAGE_LIMIT)}
            body = (await self.upstream.request("GET", "/rbac/users", params=params, ok=(200,))).json()
            page = body.get("data") if isinstance(body, dict) else None
            if not isinstance(page, list):
                raise VendorBadResponse(f"app {self.upstream.app!r}: Orca's user list is malformed")
            if not page:
                return users
            users.extend(page)

    async def _role_group(self, role: str, users: list[dict[str, Any]] | None = None) -> Resource:
        if role not in self.options.roles:
            raise UnknownResource(f"Group {role!r} not found: Orca roles are {', '.join(self.options.roles)}")
        members = [
            {"value": user["id"], "display": user.get("email"), "type": "User"}
            for user in (users if users is not None else await self._all())
            if user.get("role") == role
        ]
        return {
            "schemas": [GROUP_SCHEMA],
            "id": role,
            "displayName": role,
            "members": members,
            "meta": {"resourceType": "Group"},
        }

    async def _replace_role_group(self, role: str, resource: Resource) -> Resource:
        current = await self._role_group(role)
        if resource.get("displayName") not in (None, role):
            raise VendorRejected("Orca roles are platform-defined and cannot be renamed", scim_type="mutability")
        before = {member["value"] for member in current["members"]}
        after = {member["value"] for member in resource.get("members") or [] if member.get("value")}
        for user_id in sorted(after - before):
            await self._patch_user(user_id, {"role": role})
        for user_id in sorted(before - after):
            await self._patch_user(user_id, {"role": self.options.default_role})
        return await self._role_group(role)

    def _check_role(self, role: str) -> None:
        if role not in self.options.roles:
            known = ", ".join(self.options.roles)
            raise VendorRejected(f"unknown Orca role {role!r}; Orca roles are {known}", scim_type="invalidValue")


def _window(resources: list[Resource], query: SearchQuery) -> Page:
    start = query.start_index - 1
    return Page(total=len(resources), resources=resources[start : start + query.count])
