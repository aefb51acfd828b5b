"""Turn a vendor's resource into the one the caller sees.

`meta.location` and member `$ref`s are rewritten to the gateway's own URLs
(the vendor's would leak its host and bypass the gateway), `meta.version` is
dropped unless the app's directory versions its resources (the vendor's own
would not match the ETags the gateway announces), and `attributes` /
`excludedAttributes` are applied (RFC 7644 section 3.9).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.scim.projection import Spec, project
from vendors.base import Kind

_CORE_SCHEMA = {
    Kind.USER: "urn:ietf:params:scim:schemas:core:2.0:User",
    Kind.GROUP: "urn:ietf:params:scim:schemas:core:2.0:Group",
}


def core_schema(kind: Kind) -> str:
    return _CORE_SCHEMA[kind]


def present(
    kind: Kind,
    resource: dict[str, Any],
    base: str,
    include: Sequence[Spec] = (),
    exclude: Sequence[Spec] = (),
    versioned: bool = False,
) -> dict[str, Any]:
    """A caller-facing copy of `resource`; `base` is the app's SCIM root URL on the gateway.

    `versioned`: the app announces ETags, and `meta.version` (set by the directory) is kept.
    """
    result = dict(resource)
    meta = dict(result.get("meta") or {})
    meta["resourceType"] = kind.value
    meta["location"] = f"{base}{kind.endpoint}/{result['id']}"
    if not versioned:
        meta.pop("version", None)
    result["meta"] = meta
    if "schemas" not in result:
        result["schemas"] = [_CORE_SCHEMA[kind]]
    members = result.get("members")
    if isinstance(members, list):
        result["members"] = [_member(member, base) for member in members]
    if include or exclude or "password" in result:
        result = project(result, include, exclude)
    return result


def _member(member: Any, base: str) -> Any:
    if not isinstance(member, dict) or "$ref" not in member or not isinstance(member.get("value"), str):
        return member
    endpoint = "/Groups" if member.get("type") == "Group" else "/Users"
    return {**member, "$ref": f"{base}{endpoint}/{member['value']}"}
