"""Orca Security REST API (`orca`): users via /api/rbac/users with `Authorization: Token <key>`.

For tenants without Orca's Enterprise SCIM. Absorbed from Orca's guide:
the REST token uses the `Token` scheme (not Bearer) and is not the SCIM
token; regional hosts; paging is undocumented and capped silently, so every
list walks pages until an empty one (vendors/orca_users.py); there is no
server-side filter (the gateway filters); creation only *invites* (the
response says so: `active` true with the Orca status `invited` in our
extension); REST reads are eventually consistent, so every write is
confirmed by reading the user back (bounded attempts). Orca roles are
exposed twice: as the user's `roles` and as one SCIM Group per role, so an
IdP's group push assigns Orca roles.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from gateway.outbound.auth import StaticTokenAuth, VendorAuth
from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import UnknownResource, VendorBadResponse, VendorRejected
from vendors.base import Connector, ConnectorSettings, Kind, Op, Page, Resource, SearchQuery, quote_id
from vendors.facts import ORCA
from vendors.orca_users import ORCA_SCHEMA, OrcaUser, UserList, from_scim, to_scim
from vendors.profile import AttributeProfile

GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
#: Asked per page; Orca may silently answer fewer, which UserList allows for.
PAGE_LIMIT = 100
#: Role changes of one group push sent to Orca at once (its rate limits are undocumented: stay modest).
ROLE_CHANGES_IN_FLIGHT = 4
NOT_AN_EMAIL = "Orca identifies users by email: userName (or a primary email) must be an email address"
log = logging.getLogger(__name__)


class OrcaCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    token: SecretStr


class OrcaOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Orca's platform-defined roles, each served as a SCIM Group (id and displayName = the role name).
    roles: tuple[str, ...] = ("Admin", "Viewer")
    #: The role given to new users without one and to users removed from a role group.
    default_role: str = "Viewer"
    #: What a SCIM DELETE does: `delete` (permanent, RFC 7644 section 3.6) or `deactivate` (status inactive).
    delete_mode: Literal["delete", "deactivate"] = "delete"
    #: Reads after a write until it shows (Orca's reads lag its writes); the waits double from confirm_delay.
    confirm_attempts: int = Field(default=6, ge=1, le=20)
    confirm_delay: float = Field(default=0.02, ge=0, le=5)
    #: Seconds one walk of every user serves the pages of a listing (dropped on every write).
    list_cache_seconds: float = Field(default=2.0, ge=0)


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


#: The User attributes an Orca user reads back as (vendors/orca_users.to_scim).
HELD = frozenset(
    {
        *("userName", "displayName", "active", "emails.value", "emails.type", "emails.primary"),
        *("roles.value", "roles.display", "roles.primary", "groups.value", "groups.display", "groups.type"),
        f"{ORCA_SCHEMA}:status",
    }
)


class OrcaConnector(Connector):
    vendor = "orca"
    facts = ORCA
    Settings = OrcaSettings
    user_extensions = (OrcaUser,)
    capabilities = {
        Kind.USER: frozenset({Op.GET, Op.SEARCH, Op.CREATE, Op.REPLACE, Op.DELETE}),
        Kind.GROUP: frozenset({Op.GET, Op.SEARCH, Op.REPLACE}),
    }
    #: vendor-docs/orca-security.txt: roles are platform-defined, "Admin" and "Viewer".
    privileged_roles = frozenset({"Admin"})
    unsupported_reason = (
        "Orca roles are platform-defined and served as fixed SCIM Groups, one per role: groups cannot be "
        "created or deleted. Link your IdP groups to the existing role groups and push their members instead."
    )

    def __init__(self, settings: ConnectorSettings, upstream: Any) -> None:
        super().__init__(settings, upstream)
        self.users = UserList(self._fetch_page, PAGE_LIMIT, self.options.list_cache_seconds)

    @classmethod
    def base_url(cls, settings: Any) -> str:
        if settings.base_url:
            return str(settings.base_url)
        if settings.region in ORCA.regions:
            return ORCA.regions[settings.region] + (ORCA.rest_path or "/api")
        raise ValueError(f"set base_url, or region to one of: {', '.join(sorted(ORCA.regions))}")

    @classmethod
    def vendor_auth(cls, settings: Any) -> VendorAuth:
        return StaticTokenAuth(settings.credentials.token, scheme="Token")

    @classmethod
    def user_profile(cls, settings: Any) -> AttributeProfile:
        """Orca holds {email, name, role, status}: announce only what they read back as."""
        roles = {"roles.value": tuple(settings.options.roles)}
        return AttributeProfile(held=HELD, required=frozenset({"userName"}), canonical=roles)

    @property
    def options(self) -> OrcaOptions:
        # The connector contract types settings as the base model; an OrcaConnector is built with OrcaSettings.
        return self.settings.options  # type: ignore[attr-defined,no-any-return]

    async def check(self, budget: CallBudget) -> None:
        """One small list page: proves the host and the Token credential without walking every user."""
        await self._fetch_page(budget, 0, 1)

    async def get(self, budget: CallBudget, kind: Kind, resource_id: str) -> Resource:
        if kind is Kind.GROUP:
            return await self._role_group(budget, resource_id)
        return to_scim(await self._read_user(budget, resource_id))

    async def search(self, budget: CallBudget, kind: Kind, query: SearchQuery) -> Page:
        users = await self.users.users(budget)
        if kind is Kind.GROUP:
            return _window([self._group_of(role, users) for role in self.options.roles], query)
        page = _window(users, query)  # converted after windowing: a walk in pages must not convert everyone per page
        return Page(total=page.total, resources=[to_scim(user) for user in page.resources])

    async def create(self, budget: CallBudget, kind: Kind, resource: Resource) -> Resource:
        wanted = from_scim(resource, self.options.default_role)
        self._check_email(wanted["email"])
        self._check_role(wanted["role"])
        invite = {key: wanted[key] for key in ("email", "name", "role") if wanted.get(key) is not None}
        created = (await self.upstream.request("POST", "/rbac/users", json=invite, ok=(200, 201), budget=budget)).json()
        if not isinstance(created, dict) or not isinstance(created.get("id"), str):
            self.users.forget()
            raise VendorBadResponse(f"app {self.upstream.app!r}: Orca's invite answer has no id")
        expected = {**invite, "status": created.get("status") or "invited"}
        self.users.remember(created["id"], {**created, **expected})  # listed at once, confirmed or not
        if wanted["status"] == "inactive":
            await self._patch_user(budget, created["id"], {"status": "inactive"})
            expected["status"] = "inactive"
        return to_scim(await self._confirmed(budget, created["id"], expected))

    async def replace(
        self, budget: CallBudget, kind: Kind, resource_id: str, resource: Resource, *, current: Resource | None = None
    ) -> Resource:
        if kind is Kind.GROUP:
            return await self._replace_role_group(budget, resource_id, resource)
        current = await self._read_user(budget, resource_id)
        wanted = from_scim(resource, current.get("role") or self.options.default_role)
        self._check_email(wanted["email"])
        if wanted["role"] != current.get("role"):
            self._check_role(wanted["role"])
        if current.get("status") == "invited" and wanted["status"] == "active":
            del wanted["status"]  # an invited user stays invited until it accepts
        changes = {key: value for key, value in wanted.items() if current.get(key) != value}
        if not changes:
            return to_scim(current)
        await self._patch_user(budget, resource_id, changes)
        return to_scim(await self._confirmed(budget, resource_id, {**current, **changes}))

    async def delete(self, budget: CallBudget, kind: Kind, resource_id: str) -> None:
        if self.options.delete_mode == "deactivate":
            current = await self._read_user(budget, resource_id)
            if current.get("status") != "inactive":
                await self._patch_user(budget, resource_id, {"status": "inactive"})
                await self._confirmed(budget, resource_id, {**current, "status": "inactive"})
            return
        await self.upstream.request("DELETE", f"/rbac/users/{quote_id(resource_id)}", ok=(200, 204), budget=budget)
        self.users.remember(resource_id, None)
        await self._confirmed(budget, resource_id, None)

    async def _fetch_page(self, budget: CallBudget, offset: int, limit: int) -> list[dict[str, Any]]:
        params = {"offset": str(offset), "limit": str(limit)}
        body = (await self.upstream.request("GET", "/rbac/users", params=params, ok=(200,), budget=budget)).json()
        page = body.get("data") if isinstance(body, dict) else None
        if not isinstance(page, list):
            raise VendorBadResponse(f"app {self.upstream.app!r}: Orca's user list is malformed")
        return page

    async def _read_user(self, budget: CallBudget, user_id: str) -> dict[str, Any]:
        user = (await self.upstream.request("GET", f"/rbac/users/{quote_id(user_id)}", ok=(200,), budget=budget)).json()
        if not isinstance(user, dict):
            raise VendorBadResponse(f"app {self.upstream.app!r}: Orca's user answer is malformed")
        return user

    async def _patch_user(self, budget: CallBudget, user_id: str, changes: dict[str, Any]) -> None:
        await self.upstream.request(
            "PATCH", f"/rbac/users/{quote_id(user_id)}", json=changes, ok=(200, 204), budget=budget
        )
        self.users.forget()

    async def _confirmed(self, budget: CallBudget, user_id: str, expected: dict[str, Any] | None) -> dict[str, Any]:
        """Read the user back until it shows `expected` (None: until it is gone), a bounded number of times.

        Orca's reads lag its writes: a 404 right after an invite means "not yet".
        When the attempts run out, Orca has accepted the write but not shown it:
        the expected state is answered (it is what Orca holds) and a warning logged.
        """
        seen: dict[str, Any] | None = None
        for attempt in range(self.options.confirm_attempts):
            if attempt:
                await asyncio.sleep(self.options.confirm_delay * 2 ** (attempt - 1))
            try:
                seen = await self._read_user(budget, user_id)
            except UnknownResource:
                if expected is None:
                    return {}
                continue
            if expected is not None and _shows(seen, expected):
                self.users.remember(user_id, seen)
                return seen
        log.warning("Orca write not visible after %d reads (app %s)", self.options.confirm_attempts, self.upstream.app)
        state = {"id": user_id} if expected is None else {**(seen or {}), **expected, "id": user_id}
        if expected is not None:
            self.users.remember(user_id, state)
        return state

    async def _role_group(self, budget: CallBudget, role: str) -> Resource:
        if role not in self.options.roles:
            raise UnknownResource(f"Group {role!r} not found: Orca roles are {', '.join(self.options.roles)}")
        return self._group_of(role, await self.users.users(budget))

    def _group_of(self, role: str, users: list[dict[str, Any]]) -> Resource:
        members = [
            {"value": user["id"], "display": user.get("email"), "type": "User"}
            for user in users
            if user.get("role") == role
        ]
        return {
            "schemas": [GROUP_SCHEMA],
            "id": role,
            "displayName": role,
            "members": members,
            "meta": {"resourceType": "Group"},
        }

    async def _replace_role_group(self, budget: CallBudget, role: str, resource: Resource) -> Resource:
        """Members of a role group hold the role: added members get it, removed ones fall back to default_role.

        Raises UnknownResource for a role Orca does not have, VendorRejected for
        a rename (before any vendor call) or for a member that is no Orca user.
        """
        if role not in self.options.roles:
            raise UnknownResource(f"Group {role!r} not found: Orca roles are {', '.join(self.options.roles)}")
        if resource.get("displayName") not in (None, role):
            raise VendorRejected("Orca roles are platform-defined and cannot be renamed", scim_type="mutability")
        current = await self._role_group(budget, role)
        before = {member["value"] for member in current["members"]}
        after = {member["value"] for member in resource.get("members") or [] if member.get("value")}
        changes = [(user_id, role) for user_id in sorted(after - before)]
        if role != self.options.default_role:
            changes += [(user_id, self.options.default_role) for user_id in sorted(before - after)]
        limit = asyncio.Semaphore(ROLE_CHANGES_IN_FLIGHT)

        async def assign(user_id: str, new_role: str) -> None:
            async with limit:
                try:
                    await self._patch_user(budget, user_id, {"role": new_role})
                except UnknownResource:
                    raise VendorRejected(f"member {user_id!r} is not an Orca user", scim_type="invalidValue") from None
                await self._confirmed(budget, user_id, {"role": new_role})

        await asyncio.gather(*(assign(user_id, new_role) for user_id, new_role in changes))
        return await self._role_group(budget, role)

    @staticmethod
    def _check_email(email: Any) -> None:
        """Orca logs users in by email, its only identifier: refuse before Orca does, saying why."""
        if not isinstance(email, str) or "@" not in email:
            raise VendorRejected(NOT_AN_EMAIL, scim_type="invalidValue")

    def _check_role(self, role: str) -> None:
        if role not in self.options.roles:
            known = ", ".join(self.options.roles)
            raise VendorRejected(f"unknown Orca role {role!r}; Orca roles are {known}", scim_type="invalidValue")


def _shows(user: dict[str, Any], expected: dict[str, Any]) -> bool:
    """Whether Orca's read shows the expected fields (an invitee re-activated shows `invited`)."""
    for key, value in expected.items():
        if key == "status" and value == "active" and user.get("status") == "invited":
            continue
        if user.get(key) != value:
            return False
    return True


def _window(resources: list[dict[str, Any]], query: SearchQuery) -> Page:
    start = query.start_index - 1
    return Page(total=len(resources), resources=resources[start : start + query.count])
