"""Which of a User's attributes the vendor stores and which the gateway holds; the merged view (pure, no I/O).

A resource is taken apart into leaves: each top-level attribute, except that a
singular complex attribute (`name`, the enterprise `manager`) gives one leaf per
sub-attribute, so `name.givenName` can live at the vendor while
`name.middleName` is held here. A multi-valued attribute (`emails`, `roles`)
is one leaf: its values belong together.

A leaf is *native* when the connector's AttributeProfile (vendors/profile.py)
lists it; every other leaf the app's schema accepted is held by the gateway.
A native leaf the vendor did not store as sent (Orca keeps one email, not the
IdP's two) is held too, but shown only while the vendor's value is still the
one it stored then (`written`): a change made in the vendor's console wins.
For access-bearing attributes (`active`, `roles`, `entitlements`) the values
themselves must be what the vendor stored; a held copy may only add details
the vendor drops (a role's `type`), never grant what the vendor does not.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vendors.profile import AttributeProfile

#: (extension schema URN or "" for the core schema, attribute, sub-attribute or None)
Leaf = tuple[str, str, str | None]
Resource = dict[str, Any]

#: Never kept: identity and bookkeeping (the vendor's or the directory's), and the write-only password.
_NOT_KEPT = frozenset({"id", "meta", "schemas", "password", "groups", "externalId"})
#: Whose values decide what a user may do at the vendor: never shown other than the vendor holds them.
ACCESS = frozenset({"active", "roles", "entitlements"})


def leaves(resource: Mapping[str, Any]) -> dict[Leaf, Any]:
    """The resource's leaves (identity, bookkeeping and password left out)."""
    found: dict[Leaf, Any] = {}
    for key, value in resource.items():
        if key in _NOT_KEPT:
            continue
        if key.startswith("urn:") and isinstance(value, dict):
            for attribute, item in value.items():
                _add(found, key, attribute, item)
        else:
            _add(found, "", key, value)
    return found


def _add(found: dict[Leaf, Any], schema: str, attribute: str, value: Any) -> None:
    if isinstance(value, dict):
        for sub, item in value.items():
            found[(schema, attribute, sub)] = item
    else:
        found[(schema, attribute, None)] = value


def assemble(parts: Mapping[Leaf, Any]) -> Resource:
    """The SCIM JSON of some leaves (the inverse of `leaves`)."""
    resource: Resource = {}
    for (schema, attribute, sub), value in parts.items():
        holder = resource if not schema else resource.setdefault(schema, {})
        if sub is None:
            holder[attribute] = value
        else:
            holder.setdefault(attribute, {})[sub] = value
    return resource


def name(leaf: Leaf) -> str:
    """The leaf as AttributeProfile spells it: `name.givenName`, `urn:...:User:manager.value`."""
    schema, attribute, sub = leaf
    text = f"{schema}:{attribute}" if schema else attribute
    return f"{text}.{sub}" if sub else text


class VendorModel:
    """What one app's vendor stores of a User (no profile: everything, as a SCIM vendor does)."""

    def __init__(self, profile: AttributeProfile | None) -> None:
        self.profile = profile
        self._stored = None if profile is None else frozenset(entry.lower() for entry in profile.held)
        # Every read asks again for the same few leaves; the app's schema bounds how many there are.
        self._native: dict[Leaf, bool] = {}

    def native(self, leaf: Leaf) -> bool:
        """Whether the vendor stores this leaf."""
        known = self._native.get(leaf)
        if known is None:
            known = self._native[leaf] = self._stores(leaf)
        return known

    def _stores(self, leaf: Leaf) -> bool:
        stored = self._stored
        if stored is None:
            return True
        whole = name((leaf[0], leaf[1], None)).lower()
        if leaf[2] is not None:
            return name(leaf).lower() in stored or whole in stored
        return whole in stored or any(entry.startswith(whole + ".") for entry in stored)

    def unstored(self, resource: Mapping[str, Any]) -> list[str]:
        """Names of the attributes in `resource` that this vendor does not store at all."""
        return sorted({name(leaf) for leaf in leaves(resource) if not self.native(leaf)})


@dataclass(frozen=True)
class Kept:
    """What the directory keeps of one write: the held leaves, and the vendor's own as it stored them."""

    held: Resource
    written: Resource
    #: Access-bearing attributes whose values the vendor did not take (the write must be refused).
    refused: tuple[str, ...] = ()


def kept(model: VendorModel, desired: Mapping[str, Any], stored: Mapping[str, Any]) -> Kept:
    """Split a write: `desired` is what the IdP asked for, `stored` what the vendor read back after it."""
    at_vendor = leaves(stored)
    held: dict[Leaf, Any] = {}
    written: dict[Leaf, Any] = {}
    refused: list[str] = []
    for leaf, value in leaves(desired).items():
        if not model.native(leaf):
            if not empty(value):
                held[leaf] = value
            continue
        current = at_vendor.get(leaf)
        if not empty(current):
            written[leaf] = current
        if same(value, current):
            continue
        if leaf[1] in ACCESS and not leaf[0] and not same_values(value, current):
            refused.append(name(leaf))
        elif not empty(value):
            held[leaf] = value
    for leaf, current in at_vendor.items():
        if model.native(leaf) and leaf not in written and not empty(current):
            written[leaf] = current
    return Kept(assemble(held), assemble(written), tuple(refused))


def changes_vendor(model: VendorModel, desired: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """Whether writing `desired` would change anything the vendor stores (else the write need not be sent).

    Compared as a PUT would apply it: a native leaf the vendor has and `desired` leaves out is a change.
    """
    wanted, held_now = leaves(desired), leaves(current)
    for leaf in wanted.keys() | held_now.keys():
        if model.native(leaf) and not same(wanted.get(leaf), held_now.get(leaf)):
            return True
    return False


def merged(
    model: VendorModel, vendor: Mapping[str, Any], held: Mapping[str, Any], written: Mapping[str, Any]
) -> Resource:
    """The resource as the IdP reads it: the vendor's, with the held leaves laid over it.

    A held copy of a native leaf is shown only while the vendor still has what it stored at that write.
    """
    result = dict(vendor)
    if not held:
        return result
    at_vendor = leaves(vendor)
    as_written = leaves(written)
    shown = {
        leaf: value
        for leaf, value in leaves(held).items()
        if not model.native(leaf) or same(as_written.get(leaf), at_vendor.get(leaf))
    }
    for leaf, value in shown.items():
        _place(result, leaf, value)
    extensions = sorted({leaf[0] for leaf in shown if leaf[0]})
    if extensions:
        schemas = list(result.get("schemas") or [])
        result["schemas"] = schemas + [urn for urn in extensions if urn not in schemas]
    return result


def _place(resource: Resource, leaf: Leaf, value: Any) -> None:
    schema, attribute, sub = leaf
    holder = resource
    if schema:
        holder = resource[schema] = dict(resource.get(schema) or {})
    if sub is None:
        holder[attribute] = value
    else:
        holder[attribute] = {**(holder.get(attribute) or {}), sub: value}


def empty(value: Any) -> bool:
    """Unassigned: absent, null, "", [] or {} (RFC 7643 section 2.5)."""
    return value is None or value == "" or value == [] or value == {}


def same(sent: Any, stored: Any) -> bool:
    """Whether the vendor holds what was sent: strings without case, `primary: false` as absent, extra
    sub-attributes or values the vendor adds ignored (it may add a `display`)."""
    if empty(sent):
        return empty(stored)
    if isinstance(sent, str):
        return isinstance(stored, str) and _folded(sent) == _folded(stored)
    if isinstance(sent, dict):
        if not isinstance(stored, dict):
            return False
        return all(same(value, stored.get(key)) for key, value in sent.items() if not _default(key, value))
    if isinstance(sent, list):
        if not isinstance(stored, list):
            return False
        remaining = list(stored)
        for value in sent:
            match = next((index for index, item in enumerate(remaining) if same(value, item)), None)
            if match is None:
                return False
            remaining.pop(match)
        return True
    return bool(sent == stored)


def same_values(sent: Any, stored: Any) -> bool:
    """For access-bearing attributes: the same values (`value` of each entry, or the plain value)."""
    return _values(sent) == _values(stored)


def _values(value: Any) -> set[str]:
    if empty(value):
        return set()
    items: Iterable[Any] = value if isinstance(value, list) else [value]
    return {_folded(str(item.get("value") if isinstance(item, dict) else item)) for item in items}


def _default(key: str, value: Any) -> bool:
    return key == "primary" and value is False


def _folded(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()
