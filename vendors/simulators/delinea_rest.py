"""Delinea Platform simulator: the REST users API (`/api/v1/users`), OAuth2 bearer tokens.

From Delinea's guide, traps included: scopes gate each call
(`delinea:api:read` for GETs, `write` for create/update/delete, `admin` for
role assignments); skip/take paging with `take` defaulting to 25 and a larger
`take` silently served as 100; `total` counts every match; the only filter is
`userName eq 'x'`; users are addressed by UUID, not userName; userName is
unique (409) and an email is required on create; PATCH changes only the
fields sent (`null` clears one) and `active: false` deactivates; DELETE is
permanent; `groups` is read-only. A client above its rate gets bursts of 429
with no Retry-After. The static SCIM token is refused here. This store is
separate from the SCIM surface's, as in Delinea.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import orjson

from vendors.simulators.base import RateLimit, Receive, Scope, Send, bearer_token, read_body, send_json
from vendors.simulators.console import ConsoleError
from vendors.simulators.delinea_token import ADMIN, READ, WRITE, TokenIssuer

USERS_PATH = "/api/v1/users"
DEFAULT_TAKE, MAX_TAKE = 25, 100
ROLES = ("User", "Auditor", "Privilege Manager", "Administrator")
_FILTER = re.compile(r"^\s*userName\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)
_STRINGS = ("userName", "displayName", "title", "externalId", "department")
_WRITABLE = frozenset({*_STRINGS, "name", "emails", "phoneNumbers", "active", "roles", "manager"})
_READ_ONLY = frozenset({"id", "groups", "meta"})
SCIM_TOKEN_ON_REST = "this is the SCIM token (Admin > Integrations > SCIM); the REST API needs an OAuth2 access token"


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class UsersApi:
    """The /api/v1/users endpoints of one Delinea tenant (an ASGI app)."""

    def __init__(
        self,
        issuer: TokenIssuer,
        scim_token: str,
        rate: float | None = 500.0,
        burst: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer
        self.scim_token = scim_token
        self.limit = RateLimit(rate, burst, clock)
        self.users: dict[str, dict[str, Any]] = {}  # insertion order is the listing order
        self._names: dict[str, str] = {}  # lower-cased userName -> id, for uniqueness without a scan

    def add(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Store a new user from REST fields (validated as a create); raises ApiError."""
        user = _validated(fields, creating=True)
        self._check_unique(user["userName"], None)
        now = _now()
        user = {"id": str(uuid.uuid4()), "active": True, **user, "groups": [], "meta": {"created": now}}
        user["meta"]["lastModified"] = now
        self.users[user["id"]] = user
        self._names[user["userName"].lower()] = user["id"]
        return user

    def remove(self, user_id: str) -> bool:
        """Delete a user (permanent, as Delinea's DELETE); False when there is no such user."""
        user = self.users.pop(user_id, None)
        if user is not None:
            self._names.pop(user["userName"].lower(), None)
        return user is not None

    def state(self) -> dict[str, Any]:
        return {"users": list(self.users.values()), "rate_limited": self.limit.refused}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            status, body = await self._serve(scope, receive)
        except ApiError as exc:
            headers = [(b"www-authenticate", b'Bearer error="invalid_token"')] if exc.status == 401 else []
            await send_json(send, exc.status, {"error": exc.code or "error", "message": exc.message}, headers)
            return
        await send_json(send, status, body)

    async def _serve(self, scope: Scope, receive: Receive) -> tuple[int, Any]:
        method, path = scope["method"], scope["path"]
        if path.rstrip("/") == USERS_PATH:
            user_id = None
        elif path.startswith(USERS_PATH + "/") and "/" not in path[len(USERS_PATH) + 1 :]:
            user_id = path[len(USERS_PATH) + 1 :]
        else:
            raise ApiError(404, "no such endpoint", "not_found")
        allowed = ("GET", "POST") if user_id is None else ("GET", "PATCH", "DELETE")
        if method not in allowed:
            raise ApiError(405, f"{method} is not allowed here", "method_not_allowed")
        body = await _json_body(receive) if method in ("POST", "PATCH") else {}
        changes_roles = "roles" in body and self._roles_change(user_id, body["roles"])
        needed = {READ} if method == "GET" else {WRITE} | ({ADMIN} if changes_roles else set())
        self._authorise(scope, needed)
        if user_id is None:
            return (200, self._list(scope)) if method == "GET" else (201, self.add(body))
        user = self.users.get(user_id)
        if user is None:
            raise ApiError(404, f"no user with id {user_id!r} (users are addressed by id, not userName)", "not_found")
        if method == "GET":
            return 200, user
        if method == "DELETE":
            self.remove(user_id)
            return 204, None
        return 200, self._update(user, body)

    def _authorise(self, scope: Scope, needed: set[str]) -> None:
        scheme, credential = bearer_token(scope)
        if scheme.lower() != "bearer" or not credential:
            raise ApiError(401, "a Bearer access token from /identity/connect/token is required", "invalid_token")
        if credential == self.scim_token:
            raise ApiError(401, SCIM_TOKEN_ON_REST, "invalid_token")
        token = self.issuer.check(credential)
        if token is None:
            raise ApiError(401, "the access token is unknown or expired", "invalid_token")
        if not self.limit.admit(token.client_id):
            raise ApiError(429, "too many requests", "rate_limited")  # no Retry-After, as Delinea
        missing = needed - token.scopes
        if missing:
            raise ApiError(403, "the token lacks scope " + " ".join(sorted(missing)), "insufficient_scope")

    def _list(self, scope: Scope) -> dict[str, Any]:
        query = {key: values[-1] for key, values in parse_qs(scope["query_string"].decode()).items()}
        skip = _non_negative(query.get("skip", "0"), "skip")
        take = min(_non_negative(query.get("take", str(DEFAULT_TAKE)), "take"), MAX_TAKE)
        users = list(self.users.values())
        if "filter" in query:
            match = _FILTER.match(query["filter"])
            if match is None:
                raise ApiError(400, "unsupported filter: only userName eq '<value>' is supported", "invalid_filter")
            wanted = match.group(1).replace("''", "'").lower()
            users = [user for user in users if user["userName"].lower() == wanted]
        return {"data": users[skip : skip + take], "total": len(users), "skip": skip, "take": take}

    def _update(self, user: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        changes = _validated(body, creating=False)
        if "userName" in changes:
            self._check_unique(changes["userName"], user["id"])
            self._names.pop(user["userName"].lower(), None)
            self._names[changes["userName"].lower()] = user["id"]
        for key, value in changes.items():
            if value is None:
                user.pop(key, None)
            else:
                user[key] = value
        user["meta"] = {**user["meta"], "lastModified": _now()}
        return user

    def _roles_change(self, user_id: str | None, roles: Any) -> bool:
        current = self.users.get(user_id, {}).get("roles") if user_id else None
        return sorted(roles or []) != sorted(current or []) if isinstance(roles, list | None) else True

    def _check_unique(self, user_name: str, own_id: str | None) -> None:
        owner = self._names.get(user_name.lower())
        if owner is not None and owner != own_id:
            raise ApiError(409, f"userName {user_name!r} is already taken", "conflict")


class DelineaConsole:
    """Delinea's admin portal (Access > Users): users as the REST API holds them, no token, no rate limit."""

    def __init__(self, api: UsersApi) -> None:
        self.api = api

    def create(self, body: Any) -> dict[str, Any]:
        try:
            return self.api.add(body)
        except ApiError as exc:
            raise ConsoleError(exc.status, exc.message) from None

    def change(self, user_id: str, body: Any) -> dict[str, Any]:
        user = self.api.users.get(user_id)
        if user is None:
            raise ConsoleError(404, f"no user with id {user_id!r}")
        try:
            return self.api._update(user, body)
        except ApiError as exc:
            raise ConsoleError(exc.status, exc.message) from None

    def remove(self, user_id: str) -> None:
        if not self.api.remove(user_id):
            raise ConsoleError(404, f"no user with id {user_id!r}")


def _validated(body: Any, creating: bool) -> dict[str, Any]:
    """The writable fields of a create/PATCH body, type-checked; read-only fields are ignored."""
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object", "invalid_request")
    unknown = set(body) - _WRITABLE - _READ_ONLY
    if unknown:
        raise ApiError(400, "unknown fields: " + ", ".join(sorted(unknown)), "invalid_request")
    fields = {key: value for key, value in body.items() if key in _WRITABLE}
    for key in _STRINGS:
        if fields.get(key) is not None and not isinstance(fields[key], str):
            raise ApiError(400, f"{key} must be a string", "invalid_request")
    if "active" in fields and not isinstance(fields["active"], bool):
        raise ApiError(400, "active must be a boolean", "invalid_request")
    _check_objects(fields)
    if creating and not fields.get("userName"):
        raise ApiError(400, "userName is required", "invalid_request")
    if creating and not fields.get("emails"):
        raise ApiError(400, "emails is required (notifications are sent to the primary email)", "invalid_request")
    if "userName" in fields and not fields["userName"]:
        raise ApiError(400, "userName cannot be cleared", "invalid_request")
    return fields


def _check_objects(fields: dict[str, Any]) -> None:
    name = fields.get("name")
    if name is not None and (not isinstance(name, dict) or set(name) - {"givenName", "familyName"}):
        raise ApiError(400, "name holds givenName and familyName only", "invalid_request")
    for key in ("emails", "phoneNumbers"):
        items = fields.get(key)
        if items is not None and not (isinstance(items, list) and all(_is_multi(item) for item in items)):
            raise ApiError(400, f"{key} must be a list of {{value, type, primary}}", "invalid_request")
    roles = fields.get("roles")
    if roles is not None and (not isinstance(roles, list) or any(role not in ROLES for role in roles)):
        raise ApiError(400, "role names must match existing platform roles: " + ", ".join(ROLES), "invalid_role")
    manager = fields.get("manager")
    if manager is not None and not (isinstance(manager, dict) and isinstance(manager.get("value"), str)):
        raise ApiError(400, "manager must be {value: <manager id>}", "invalid_request")


def _is_multi(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("value"), str) and set(item) <= {"value", "type", "primary"}


async def _json_body(receive: Receive) -> dict[str, Any]:
    raw = await read_body(receive)
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        raise ApiError(400, "the body is not JSON", "invalid_request") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object", "invalid_request")
    return body


def _non_negative(value: str, name: str) -> int:
    if not value.isdigit():
        raise ApiError(400, f"{name} must be a non-negative integer", "invalid_request")
    return int(value)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
