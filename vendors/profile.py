"""Which User attributes a vendor really holds, so discovery announces only those (RFC 7644 section 4).

A native REST connector maps a subset of RFC 7643's User: announcing the
whole schema would promise that, say, `nickName` is stored when the vendor
silently drops it, and conformance checkers (and careful IdP admins) would
be right to call that a defect. A connector returns an `AttributeProfile`
from `Connector.user_profile(settings)`; `trim_schema` narrows the schema
documents to it. Requests carrying other attributes are still accepted (RFC
7644 section 3.3 lets a service provider ignore attributes it does not
support); they are simply not kept.

Names: `userName`, `name.givenName` (a bare `name` keeps every
sub-attribute), extension attributes with their schema URN
(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AttributeProfile:
    """`held`: attributes the vendor stores; `required`: those every resource of the vendor has (it insists
    on them at creation, or supplies a default, so they cannot be removed);
    `canonical`: attribute -> the values the vendor accepts (announced as canonicalValues)."""

    held: frozenset[str]
    required: frozenset[str] = frozenset()
    canonical: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def trim_schema(schema: dict[str, Any], profile: AttributeProfile, core: bool) -> dict[str, Any]:
    """A copy of one Schema document (RFC 7643 section 7) with only the attributes in `profile`."""
    prefix = "" if core else str(schema["id"]) + ":"
    attributes = []
    for attribute in schema.get("attributes") or []:
        name = prefix + attribute["name"]
        subs = attribute.get("subAttributes") or []
        kept_subs = _stored_subs(name, subs, profile)
        if name not in profile.held and not kept_subs:
            continue
        attribute = {**attribute, **_flags(name, profile)}
        if subs:
            attribute["subAttributes"] = [{**sub, **_flags(f"{name}.{sub['name']}", profile)} for sub in kept_subs]
        attributes.append(attribute)
    return {**schema, "attributes": attributes}


def _stored_subs(name: str, subs: list[dict[str, Any]], profile: AttributeProfile) -> list[dict[str, Any]]:
    """The sub-attributes of `name` the vendor stores (all of them when the profile names the attribute)."""
    return [sub for sub in subs if name in profile.held or f"{name}.{sub['name']}" in profile.held]


def _flags(name: str, profile: AttributeProfile) -> dict[str, Any]:
    flags: dict[str, Any] = {}
    if name in profile.required:
        flags["required"] = True
    if name in profile.canonical:
        flags["canonicalValues"] = list(profile.canonical[name])
    return flags


def mark_held(schema: dict[str, Any], profile: AttributeProfile, core: bool, vendor: str) -> dict[str, Any]:
    """A copy of one Schema document with every attribute outside `profile` described as held by the gateway.

    For apps whose directory keeps what the vendor cannot store (`directory: full`): the whole schema is
    served, and a reader of /Schemas sees which attributes live in the gateway, not at the vendor.
    """
    prefix = "" if core else str(schema["id"]) + ":"
    note = f" Kept by scim-gateway: {vendor} does not store it."
    attributes = []
    for attribute in schema.get("attributes") or []:
        name = prefix + attribute["name"]
        subs = attribute.get("subAttributes") or []
        stored_subs = _stored_subs(name, subs, profile)
        if name not in profile.held and not stored_subs:
            attribute = {**attribute, "description": (attribute.get("description") or "") + note}
        elif subs and attribute.get("multiValued") is not True:
            attribute = {
                **attribute,
                "subAttributes": [
                    sub if sub in stored_subs else {**sub, "description": (sub.get("description") or "") + note}
                    for sub in subs
                ],
            }
        attributes.append({**attribute, **_flags(name, profile)})
    return {**schema, "attributes": attributes}
