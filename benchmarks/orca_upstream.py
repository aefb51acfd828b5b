"""The Orca REST half of the static upstream (`/api/rbac/users`): fast, and just stateful enough.

Orca's connector reads every write back until it shows, so a purely canned
upstream would make it retry forever. This one keeps the users it was told
about in a bounded dict (oldest forgotten first) and makes up any other id
on first read as an active user, so a deactivation PATCH of a fresh id goes
through the whole path: read, write, read back. Reads are consistent at once
(no lag), so the benchmark measures the gateway, not Orca's eventual
consistency. The list is one page of ORCA_PAGE at offset 0 and empty after
it (the connector walks until an empty page).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from typing import Any

import orjson

from benchmarks.scenarios import ORCA_PAGE

ROOT = b"/api/rbac/users"
MAX_USERS = 200_000
_PAGE = orjson.dumps({"data": ORCA_PAGE})
_EMPTY = orjson.dumps({"data": []})


def _response(status: str, body: bytes | None) -> bytes:
    if body is None:
        return f"HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n".encode()
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


PAGE = _response("200 OK", _PAGE)
EMPTY = _response("200 OK", _EMPTY)
NOT_FOUND = _response("404 Not Found", b'{"status":"error","detail":"not found"}')
BAD_REQUEST = _response("400 Bad Request", b'{"status":"error","detail":"body is not a JSON object"}')


class OrcaUsers:
    """Answers Orca REST user requests from a bounded in-memory store."""

    def __init__(self) -> None:
        self.users: OrderedDict[str, dict[str, Any]] = OrderedDict((user["id"], dict(user)) for user in ORCA_PAGE)
        self._ids = itertools.count(1)

    def answer(self, method: bytes, url: bytes, body: bytes) -> bytes:
        path, _, query = url.partition(b"?")
        path = path.rstrip(b"/")
        if path == ROOT:
            if method == b"GET":
                return EMPTY if b"offset=0" not in query.split(b"&") else PAGE
            if method == b"POST":
                return self._invite(body)
            return NOT_FOUND
        if not path.startswith(ROOT + b"/") or path.count(b"/") != 4:
            return NOT_FOUND
        user_id = path.rsplit(b"/", 1)[1].decode()
        if method == b"GET":
            return _response("200 OK", orjson.dumps(self._user(user_id)))
        if method == b"PATCH":
            return self._update(user_id, body)
        if method == b"DELETE":
            self.users.pop(user_id, None)
            return _response("204 No Content", None)
        return NOT_FOUND

    def _user(self, user_id: str) -> dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            user = {"id": user_id, "email": f"{user_id}@example.com", "name": user_id, "role": "Viewer"}
            user["status"] = "active"
            self._store(user)
        return user

    def _invite(self, body: bytes) -> bytes:
        fields = _object(body)
        if fields is None or not isinstance(fields.get("email"), str):
            return BAD_REQUEST
        user = {"id": f"usr_new{next(self._ids):08d}", "name": None, "role": "Viewer", **fields, "status": "invited"}
        self._store(user)
        return _response("201 Created", orjson.dumps({"id": user["id"], "email": user["email"], "status": "invited"}))

    def _update(self, user_id: str, body: bytes) -> bytes:
        changes = _object(body)
        if not changes:
            return BAD_REQUEST
        user = {**self._user(user_id), **changes}
        self._store(user)
        return _response("200 OK", orjson.dumps({"id": user_id, **changes}))

    def _store(self, user: dict[str, Any]) -> None:
        self.users[user["id"]] = user
        self.users.move_to_end(user["id"])
        while len(self.users) > MAX_USERS:
            self.users.popitem(last=False)


def _object(body: bytes) -> dict[str, Any] | None:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None
