"""Map the path below `/scim/v2` and the method to one SCIM action (RFC 7644 section 3.2).

Pure: no I/O. Unknown paths are 404, a known path with the wrong method is
405, `/Bulk` is 501 (not announced), and resource ids that could escape a
vendor path (`..`, `/`, `\\`, a URL, control characters, absurd lengths) are
refused with 404 before any vendor is called.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from scim2_models import NotFoundException, NotImplementedException, SCIMException

from vendors.base import Kind

MAX_ID_LENGTH = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_KINDS = {"Users": Kind.USER, "Groups": Kind.GROUP}
SCIM_ROOT = "/tenants/{tenant}/apps/{app}/scim/v2"


class MethodNotAllowed(SCIMException):
    status = 405
    _default_detail = "method not allowed on this endpoint"


class Target(NamedTuple):
    """What a request asks for: `action` names the handler; `kind` and `ident` its subject."""

    action: str
    kind: Kind | None = None
    ident: str | None = None

    @property
    def template(self) -> str:
        """The route below the SCIM root with the id as a placeholder, e.g. `/Users/{id}` (for audit)."""
        if self.kind is None:
            endpoint = _DISCOVERY_ENDPOINTS[self.action]
            return endpoint + ("/{id}" if self.ident else "")
        return self.kind.endpoint + _SUFFIXES.get(self.action, "/{id}")


_SUFFIXES = {"search": "/.search", "list": "", "create": ""}
_DISCOVERY_ENDPOINTS = {"config": "/ServiceProviderConfig", "resource_types": "/ResourceTypes", "schemas": "/Schemas"}
_COLLECTION = {"GET": "list", "POST": "create"}
_ITEM = {"GET": "get", "PUT": "replace", "PATCH": "patch", "DELETE": "delete"}


def route(method: str, rest: str) -> Target:
    """Parse `rest` (e.g. `/Users/2819c223`) by its non-empty segments; raises SCIMException 404/405/501."""
    parts = [part for part in rest.removesuffix(".scim").split("/") if part]
    if not parts:
        raise NotFoundException(detail="no SCIM endpoint here; try /ServiceProviderConfig")
    head, tail = parts[0], parts[1:]
    if head in _KINDS:
        return _resource_route(method, _KINDS[head], tail)
    if head in ("ServiceProviderConfig", "ResourceTypes", "Schemas") and len(tail) <= 1:
        _allow(method, "GET")
        action = {"ServiceProviderConfig": "config", "ResourceTypes": "resource_types", "Schemas": "schemas"}[head]
        if head == "ServiceProviderConfig" and tail:
            raise NotFoundException(detail="unknown endpoint")
        return Target(action, ident=tail[0] if tail else None)
    if head in ("Bulk", "Me", ".search") and not tail:
        raise NotImplementedException(detail=f"/{head} is not supported by this gateway")
    raise NotFoundException(detail=f"unknown endpoint /{'/'.join(parts)}")


def _resource_route(method: str, kind: Kind, tail: list[str]) -> Target:
    if not tail:
        return Target(_allow_map(method, _COLLECTION), kind)
    if tail == [".search"]:
        _allow(method, "POST")
        return Target("search", kind)
    if len(tail) == 1:
        ident = tail[0]
        _check_id(ident)
        return Target(_allow_map(method, _ITEM), kind, ident)
    raise NotFoundException(detail="unknown endpoint")


def _allow(method: str, allowed: str) -> None:
    if method != allowed:
        raise MethodNotAllowed(detail=f"{method} is not allowed here; use {allowed}")


def _allow_map(method: str, actions: dict[str, str]) -> str:
    action = actions.get(method)
    if action is None:
        raise MethodNotAllowed(detail=f"{method} is not allowed here; use {', '.join(actions)}")
    return action


def _check_id(ident: str) -> None:
    """Refuse ids that could steer a vendor path: dot segments, separators, URLs, control characters.

    The ASGI path is already percent-decoded, so `..%2F..%2Fadmin` and
    `https:%2F%2Fevil` arrive as several segments (404 above); the separator
    and `://` checks hold should a server keep `%2F` encoded. quote_id
    (vendors/base.py) still quotes whatever passes, as the second wall.
    """
    if (
        ident in (".", "..")
        or len(ident) > MAX_ID_LENGTH
        or "/" in ident
        or "\\" in ident
        or "://" in ident
        or _CONTROL.search(ident) is not None
    ):
        raise NotFoundException(detail="no resource with such an id")
