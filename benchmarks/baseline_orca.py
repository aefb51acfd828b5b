"""The baseline's Orca REST route: the translation someone would write by hand, and no more.

SCIM in, Orca REST out, with the same pure mapping the gateway's connector
uses (vendors/orca_users.py `to_scim` / `from_scim`, so both answer the same
document): GET reads the user; a `userName eq` list walks Orca's pages until
an empty one and compares emails (userName is case-insensitive, RFC 7643
section 4.1.1); create invites and reads the user back once; PATCH handles
what Okta sends (a path-less replace of `active` and friends): read, PATCH
the changed fields, read back once. No validation, retries, throttle, audit
or metrics; any other request is a 501.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

import aiohttp
import orjson
from starlette.requests import Request
from starlette.responses import Response

from vendors.orca_users import from_scim, to_scim

_MEDIA_TYPE = "application/scim+json"
_LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
_EQ_FILTER = re.compile(r'^\s*userName\s+eq\s+("(?:[^"\\]|\\.)*")\s*$', re.IGNORECASE)
_PAGE = 100
Handler = Callable[[Request], Awaitable[Response]]


def orca_handler(api_root: str, session: Callable[[], aiohttp.ClientSession], token: str) -> Handler:
    """The endpoint for /tenants/{tenant}/apps/orca/scim/v2/{rest}, against Orca REST at `api_root`."""
    users = api_root.rstrip("/") + "/rbac/users"
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json", "Accept": "application/json"}

    async def call(method: str, url: str, body: Any = None) -> tuple[int, Any]:
        data = orjson.dumps(body) if body is not None else None
        async with session().request(method, url, data=data, headers=headers) as answer:
            payload = await answer.read()
            return answer.status, (orjson.loads(payload) if payload else None)

    async def handle(request: Request) -> Response:
        root = str(request.url).split("/scim/v2/", 1)[0] + "/scim/v2"
        parts = [part for part in request.path_params["rest"].split("/") if part]
        if parts == ["Users"] and request.method == "GET":
            return await _list(call, users, request, root)
        if parts == ["Users"] and request.method == "POST":
            wanted = from_scim(orjson.loads(await request.body()), "Viewer")
            invite = {key: wanted[key] for key in ("email", "name", "role") if wanted.get(key) is not None}
            status, created = await call("POST", users, invite)
            if status not in (200, 201):
                return _status(status)
            status, user = await call("GET", f"{users}/{created['id']}")
            return _resource(user, root, 201) if status == 200 else _status(status)
        if len(parts) == 2 and parts[0] == "Users" and request.method == "GET":
            status, user = await call("GET", f"{users}/{parts[1]}")
            return _resource(user, root) if status == 200 else _status(status)
        if len(parts) == 2 and parts[0] == "Users" and request.method == "PATCH":
            return await _patch(call, f"{users}/{parts[1]}", orjson.loads(await request.body()), root)
        return _status(501)

    return handle


async def _list(call: Any, users: str, request: Request, root: str) -> Response:
    match = _EQ_FILTER.match(unquote(request.query_params.get("filter", "")))
    if match is None:
        return _status(501)
    wanted = orjson.loads(match.group(1)).lower()
    found, offset = [], 0
    while True:
        status, page = await call("GET", f"{users}?offset={offset}&limit={_PAGE}")
        if status != 200:
            return _status(status)
        if not page["data"]:
            break
        found += [user for user in page["data"] if user.get("email", "").lower() == wanted]
        offset += len(page["data"])
    resources = [_located(to_scim(user), root) for user in found]
    document = {"schemas": [_LIST], "totalResults": len(resources), "startIndex": 1}
    document |= {"itemsPerPage": len(resources), "Resources": resources}
    return Response(orjson.dumps(document), media_type=_MEDIA_TYPE)


async def _patch(call: Any, url: str, message: dict[str, Any], root: str) -> Response:
    status, current = await call("GET", url)
    if status != 200:
        return _status(status)
    scim = to_scim(current)
    for operation in message.get("Operations", []):
        if str(operation.get("op", "")).lower() != "replace" or operation.get("path"):
            return _status(501)
        scim.update(operation.get("value") or {})
    wanted = from_scim(scim, current.get("role") or "Viewer")
    changes = {key: value for key, value in wanted.items() if current.get(key) != value}
    if changes:
        status, _ = await call("PATCH", url, changes)
        if status not in (200, 204):
            return _status(status)
        status, current = await call("GET", url)
        if status != 200:
            return _status(status)
    return _resource(current, root)


def _located(scim: dict[str, Any], root: str) -> dict[str, Any]:
    scim["meta"]["location"] = f"{root}/Users/{scim['id']}"
    return scim


def _resource(user: dict[str, Any], root: str, status: int = 200) -> Response:
    scim = _located(to_scim(user), root)
    headers = {"Location": scim["meta"]["location"]} if status == 201 else None
    return Response(orjson.dumps(scim), status_code=status, headers=headers, media_type=_MEDIA_TYPE)


def _status(status: int) -> Response:
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": str(status)}
    return Response(orjson.dumps(body), status_code=status, media_type=_MEDIA_TYPE)
