"""Orca REST users: the SCIM mapping and the user-list reader (every page, read-your-writes).

Pure mapping (`to_scim`, `from_scim`) between a SCIM User and Orca's
`{id, email, name, role, status}`, and `UserList`, which walks Orca's
undocumented offset paging and keeps a short-lived snapshot so that the
pages of one SCIM listing (and a filter evaluated in the gateway) cost one
walk, not one walk per page.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from scim2_models import URN, Extension, Mutability

from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import VendorBadResponse
from vendors.base import Resource

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ORCA_SCHEMA = "urn:ietf:params:scim:schemas:extension:scim-gateway:orca:2.0:User"
#: Safety stop for a vendor whose pages never end (at any page size, far beyond any real tenant).
MAX_PAGES = 20_000


class OrcaUser(Extension):
    """What Orca knows of a user beyond SCIM: its account status (`invited` until the user accepts)."""

    __schema__ = URN(ORCA_SCHEMA)

    status: Annotated[str | None, Mutability.read_only] = None
    """Orca's own status of the account: active, invited (an invitation not yet accepted) or inactive."""


def to_scim(user: dict[str, Any]) -> Resource:
    """An Orca user as a SCIM User: `invited` counts as active, and the Orca status stays visible."""
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
        # Orca holds one name: it is the displayName (name.givenName/familyName only compose it on writes).
        scim["displayName"] = user["name"]
    if user.get("role"):
        scim["roles"] = [{"value": user["role"], "display": user["role"], "primary": True}]
        scim["groups"] = [{"value": user["role"], "display": user["role"], "type": "direct"}]
    return scim


def from_scim(scim: Resource, default_role: str) -> dict[str, Any]:
    """The Orca fields a SCIM User sets: email, name (None: none), role (primary role, else `default_role`), status."""
    name = scim.get("displayName") or _formatted(scim.get("name"))
    roles = [role for role in scim.get("roles") or [] if isinstance(role, dict) and role.get("value")]
    primary = next((role["value"] for role in roles if role.get("primary")), None)
    body: dict[str, Any] = {"email": _email(scim), "role": primary or (roles[0]["value"] if roles else default_role)}
    body["name"] = name or None
    body["status"] = "active" if scim.get("active", True) else "inactive"
    return body


def _email(scim: Resource) -> Any:
    """Orca logs in by email: userName when it is one, else the primary (or first) email."""
    user_name = scim.get("userName")
    if isinstance(user_name, str) and "@" in user_name:
        return user_name
    emails = [email for email in scim.get("emails") or [] if isinstance(email, dict) and email.get("value")]
    primary = next((email for email in emails if email.get("primary")), emails[0] if emails else None)
    return primary["value"] if primary else user_name


def _formatted(name: Any) -> str | None:
    if not isinstance(name, dict):
        return None
    parts = [name.get("givenName"), name.get("familyName")]
    return name.get("formatted") or " ".join(part for part in parts if part) or None


#: Fetches one page (offset, limit) under the budget of the request that asked.
FetchPage = Callable[[CallBudget, int, int], Awaitable[list[dict[str, Any]]]]


class UserList:
    """Every Orca user, walked page by page until an EMPTY page.

    Orca documents no total, no next link and no page size, and caps pages
    silently: a page shorter than `limit` is not proof of the end, so only an
    empty page ends the walk. Users seen twice (offsets shift while someone
    writes) are kept once. A walk serves for `ttl` seconds (single-flight:
    concurrent callers share one walk). Writes made here are laid over it
    (`remember`) until Orca's own list shows them or `ttl_writes` passes
    (Orca's reads lag its writes), so a write does not drop the walk: an
    IdP's sync, which writes between every two lookups, would otherwise walk
    every page for every lookup. What the walk cannot show is another
    client's writes for up to `ttl`, as before; with the gateway's directory
    an IdP's own users are found there first.
    """

    def __init__(
        self,
        fetch: FetchPage,
        limit: int,
        ttl: float,
        ttl_writes: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetch = fetch
        self.limit = limit
        self.ttl = ttl
        # A write outlives the walk that was already under way when it was made (a walk lasts `ttl`).
        self.ttl_writes = ttl_writes + ttl
        self.clock = clock
        self._snapshot: tuple[float, list[dict[str, Any]]] | None = None
        self._walk: asyncio.Task[list[dict[str, Any]]] | None = None
        self._writes: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._generation = 0  # bumped by every write: a walk begun before it must not become the snapshot

    async def users(self, budget: CallBudget) -> list[dict[str, Any]]:
        """Every user, Orca's list overlaid with this connector's recent writes.

        A walk that must be made runs under `budget`, the asking request's: a request that joins a walk
        already under way waits for it (its pages are recorded in the budget of the request that began it).
        """
        if self._snapshot is not None and self.clock() - self._snapshot[0] < self.ttl:
            return self._overlaid(self._snapshot[1])
        if self._walk is None:
            self._walk = asyncio.ensure_future(self._walk_all(budget))
        walk = self._walk
        try:
            users = await asyncio.shield(walk)
        finally:
            if walk.done() and self._walk is walk:
                self._walk = None
        return self._overlaid(users)

    def remember(self, user_id: str, user: dict[str, Any] | None) -> None:
        """The state a write of this connector left (None: a deletion), shown until Orca's list shows it."""
        self._writes[user_id] = (self.clock() + self.ttl_writes, user)

    def forget(self) -> None:
        """Drop the snapshot: the next listing walks Orca again."""
        self._snapshot = None
        self._walk = None
        self._generation += 1

    async def _walk_all(self, budget: CallBudget) -> list[dict[str, Any]]:
        started, generation = self.clock(), self._generation
        users: dict[str, dict[str, Any]] = {}
        offset = 0
        for _ in range(MAX_PAGES):
            page = await self.fetch(budget, offset, self.limit)
            if not page:
                if generation == self._generation:
                    self._snapshot = (started, list(users.values()))
                return list(users.values())
            known = len(users)
            for user in page:
                if not isinstance(user, dict) or not isinstance(user.get("id"), str):
                    raise VendorBadResponse("Orca's user list holds an entry without an id")
                users.setdefault(user["id"], user)
            if len(users) == known:
                # Only users already seen: Orca ignored the offset. Refuse rather than loop or truncate.
                raise VendorBadResponse(f"Orca's user list repeats itself at offset {offset}: paging is not working")
            offset += len(page)
        raise VendorBadResponse(f"Orca's user list did not end after {MAX_PAGES} pages")

    def _overlaid(self, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        now = self.clock()
        by_id = {user["id"]: user for user in listed}
        for user_id, (until, wanted) in list(self._writes.items()):
            caught_up = by_id.get(user_id) == wanted if wanted is not None else user_id not in by_id
            if until < now or caught_up:
                del self._writes[user_id]
            elif wanted is None:
                by_id.pop(user_id, None)
            else:
                by_id[user_id] = wanted
        return list(by_id.values())
