"""Orca Security's REST user API (`/api/rbac/users`), as the guide describes it, traps included.

- Auth is exactly `Authorization: Token <API token>`. The same token as
  `Bearer` is refused (401), and so is the SCIM token, with a detail naming
  the mix-up (the two tokens manage distinct systems).
- Paging is undocumented offset/limit: pages are capped silently at
  `page_cap` whatever `limit` asks, with no total and no next link, so a
  caller that trusts `limit` or stops at a short page truncates large tenants.
- There is no server-side filter: unknown query parameters are ignored, so a
  `?email=` "filter" quietly returns everyone.
- POST only *invites* (status `invited`) and answers with a partial user.
- Roles are platform-defined: an unknown role is 400; a duplicate email 409.
- Reads are eventually consistent: a write is visible to reads only after the
  next `lag_reads` reads and `lag_seconds` on the injectable clock.
"""

from __future__ import annotations

import collections
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson

from vendors.simulators.base import Receive, Scope, Send, bearer_token, read_body, send_json
from vendors.simulators.console import ConsoleError

ROLES = ("Admin", "Viewer")
STATUSES = ("active", "invited", "inactive")
PATCHABLE = frozenset({"email", "name", "role", "status"})
SCIM_TOKEN_ON_REST = (
    "this is the Orca SCIM token (Settings > SSO > SCIM); the REST API needs an API token "
    "from Settings > API Tokens, sent as 'Authorization: Token <key>'"
)
BEARER_ON_REST = "the Orca REST API expects 'Authorization: Token <key>', not Bearer"


class RestError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class _Pending:
    """A committed write that reads do not see yet (`user` None: a deletion)."""

    user_id: str
    user: dict[str, Any] | None
    reads_left: int
    visible_at: float


class OrcaUserStore:
    """Orca's users: `committed` is the truth writes act on; reads see `visible`, which lags behind."""

    def __init__(
        self,
        roles: tuple[str, ...] = ROLES,
        lag_reads: int = 1,
        lag_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.roles = roles
        self.lag_reads = lag_reads
        self.lag_seconds = lag_seconds
        self.clock = clock
        self.committed: dict[str, dict[str, Any]] = {}
        self.visible: dict[str, dict[str, Any]] = {}
        self.pending: collections.deque[_Pending] = collections.deque()

    def seed(self, user: dict[str, Any]) -> dict[str, Any]:
        """Add a user visible at once (for seeding); returns it."""
        stored = {"id": _new_id(), **user}
        self.committed[stored["id"]] = stored
        self.visible[stored["id"]] = dict(stored)
        return stored

    # Reads (each one also moves eventual consistency along).

    def read_one(self, user_id: str) -> dict[str, Any]:
        self._settle()
        user = self.visible.get(user_id)
        if user is None:
            raise RestError(404, f"user {user_id} not found")
        return dict(user)

    def read_page(self, offset: int, limit: int) -> list[dict[str, Any]]:
        self._settle()
        return [dict(user) for user in list(self.visible.values())[offset : offset + limit]]

    def _settle(self) -> None:
        """Apply writes whose lag has passed (in order), then count this read against the rest."""
        now = self.clock()
        while self.pending and self.pending[0].reads_left <= 0 and now >= self.pending[0].visible_at:
            write = self.pending.popleft()
            if write.user is None:
                self.visible.pop(write.user_id, None)
            else:
                self.visible[write.user_id] = dict(write.user)
        for write in self.pending:
            write.reads_left -= 1

    # Writes (act on the committed state, answer at once).

    def invite(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("email"), str) or "@" not in body["email"]:
            raise RestError(400, "email is required")
        unknown = set(body) - {"email", "name", "role"}
        if unknown:
            raise RestError(400, f"unknown fields on create: {', '.join(sorted(unknown))}")
        self._check_role(body.get("role"))
        self._check_unique(body["email"], None)
        user = {"id": _new_id(), "email": body["email"], "name": body.get("name"), "role": body["role"]}
        user["status"] = "invited"
        self._commit(user["id"], user)
        return {"id": user["id"], "email": user["email"], "status": "invited"}

    def update(self, user_id: str, body: Any) -> dict[str, Any]:
        current = self.committed.get(user_id)
        if current is None:
            raise RestError(404, f"user {user_id} not found")
        if not isinstance(body, dict) or not body:
            raise RestError(400, "expected a JSON object of fields to change")
        unknown = set(body) - PATCHABLE
        if unknown:
            raise RestError(400, f"fields not patchable: {', '.join(sorted(unknown))}")
        if "role" in body:
            self._check_role(body["role"])
        if "email" in body:
            self._check_unique(body["email"], user_id)
        status = body.get("status", current["status"])
        if status not in ("active", "inactive") and status != current["status"]:
            raise RestError(400, "status must be active or inactive")
        if status == "active" and current["status"] != "active" and not current.get("accepted", True):
            status = "invited"  # an invitee becomes active only by accepting the invitation
        user = {**current, **body, "status": status}
        self._commit(user_id, user)
        return {"id": user_id, **{key: user[key] for key in body}}

    def remove(self, user_id: str) -> None:
        if self.committed.pop(user_id, None) is None:
            raise RestError(404, f"user {user_id} not found")
        self.pending.append(_Pending(user_id, None, self.lag_reads, self.clock() + self.lag_seconds))

    def accept(self, email: str) -> None:
        """The invitee accepts (what a person does in their mailbox): status becomes active."""
        user = next(u for u in self.committed.values() if u["email"].lower() == email.lower())
        self._commit(user["id"], {**user, "status": "active", "accepted": True})

    def _commit(self, user_id: str, user: dict[str, Any]) -> None:
        user.setdefault("accepted", user["status"] == "active")
        self.committed[user_id] = user
        self.pending.append(_Pending(user_id, dict(user), self.lag_reads, self.clock() + self.lag_seconds))

    def _check_role(self, role: Any) -> None:
        if role not in self.roles:
            raise RestError(400, f"unknown role {role!r}; roles are {', '.join(self.roles)}")

    def _check_unique(self, email: Any, user_id: str | None) -> None:
        if not isinstance(email, str) or "@" not in email:
            raise RestError(400, "email must be an email address")
        for other in self.committed.values():
            if other["id"] != user_id and other["email"].lower() == email.lower():
                raise RestError(409, f"a user with email {email} already exists")

    def state(self) -> dict[str, Any]:
        return {
            "users": [_public(user) for user in self.committed.values()],
            "visible": [_public(user) for user in self.visible.values()],
            "pending_writes": len(self.pending),
        }


class OrcaConsole:
    """Orca's admin console (Settings > Users): users as {email, name, role, status}, visible to reads at once.

    Unlike the API's invite, an admin may set any status (`active`, `invited`, `inactive`) directly.
    """

    def __init__(self, store: OrcaUserStore) -> None:
        self.store = store

    def create(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or set(body) - {"email", "name", "role", "status"}:
            raise ConsoleError(400, "a user is {email, name, role, status}")
        try:
            self.store._check_unique(body.get("email"), None)
            self.store._check_role(body.get("role", self.store.roles[-1]))
        except RestError as exc:
            raise ConsoleError(exc.status, exc.detail) from None
        status = body.get("status", "active")
        if status not in STATUSES:
            raise ConsoleError(400, f"status is one of {', '.join(STATUSES)}")
        user = {"role": self.store.roles[-1], "name": None, **body, "status": status, "accepted": status == "active"}
        return _public(self.store.seed(user))

    def change(self, user_id: str, body: Any) -> dict[str, Any]:
        current = self.store.committed.get(user_id)
        if current is None:
            raise ConsoleError(404, f"user {user_id} not found")
        if not isinstance(body, dict) or not body or set(body) - PATCHABLE:
            raise ConsoleError(400, "change some of {email, name, role, status}")
        try:
            if "role" in body:
                self.store._check_role(body["role"])
            if "email" in body:
                self.store._check_unique(body["email"], user_id)
        except RestError as exc:
            raise ConsoleError(exc.status, exc.detail) from None
        if body.get("status", current["status"]) not in STATUSES:
            raise ConsoleError(400, f"status is one of {', '.join(STATUSES)}")
        user = {**current, **body}
        user["accepted"] = current.get("accepted", False) or user["status"] == "active"
        self.store.committed[user_id] = user
        self.store.visible[user_id] = dict(user)
        return _public(user)

    def remove(self, user_id: str) -> None:
        if self.store.committed.pop(user_id, None) is None:
            raise ConsoleError(404, f"user {user_id} not found")
        self.store.visible.pop(user_id, None)


def _public(user: dict[str, Any]) -> dict[str, Any]:
    return {key: user.get(key) for key in ("id", "email", "name", "role", "status")}


def _new_id() -> str:
    return "usr_" + secrets.token_hex(8)


class OrcaRestSurface:
    """ASGI app for `/api` of one Orca account."""

    def __init__(self, store: OrcaUserStore, token: str, scim_token: str, page_cap: int = 50) -> None:
        self.store = store
        self.token = token
        self.scim_token = scim_token
        self.page_cap = page_cap

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            self._check_auth(scope)
            status, body = await self._dispatch(scope, receive)
        except RestError as exc:
            status, body = exc.status, {"status": "error", "detail": exc.detail}
        await send_json(send, status, body)

    def _check_auth(self, scope: Scope) -> None:
        scheme, credential = bearer_token(scope)
        if credential and hmac.compare_digest(credential.encode(), self.scim_token.encode()):
            raise RestError(401, SCIM_TOKEN_ON_REST)
        if scheme.lower() == "bearer":
            raise RestError(401, BEARER_ON_REST)
        if scheme != "Token" or not hmac.compare_digest(credential.encode(), self.token.encode()):
            raise RestError(401, "invalid API token")

    async def _dispatch(self, scope: Scope, receive: Receive) -> tuple[int, Any]:
        path = scope["path"][len(scope.get("root_path", "")) :].rstrip("/")
        method = scope["method"]
        parts = [part for part in path.split("/") if part]
        if parts[:2] != ["rbac", "users"] or len(parts) > 3:
            raise RestError(404, "not found")
        if len(parts) == 2:
            if method == "GET":
                offset, limit = _paging(scope)
                return 200, {"data": [_public(u) for u in self.store.read_page(offset, min(limit, self.page_cap))]}
            if method == "POST":
                return 201, self.store.invite(await _json(receive))
        else:
            user_id = parts[2]
            if method == "GET":
                return 200, _public(self.store.read_one(user_id))
            if method == "PATCH":
                return 200, self.store.update(user_id, await _json(receive))
            if method == "DELETE":
                self.store.remove(user_id)
                return 204, None
        raise RestError(405, f"{method} not allowed here")


def _paging(scope: Scope) -> tuple[int, int]:
    query = parse_qs(scope["query_string"].decode())
    try:
        offset = int(query.get("offset", ["0"])[0])
        limit = int(query.get("limit", ["25"])[0])
    except ValueError:
        raise RestError(400, "offset and limit must be integers") from None
    if offset < 0 or limit < 1:
        raise RestError(400, "offset must be >= 0 and limit >= 1")
    return offset, limit


async def _json(receive: Receive) -> Any:
    try:
        return orjson.loads(await read_body(receive))
    except orjson.JSONDecodeError:
        raise RestError(400, "body is not JSON") from None
