"""Filters the directory can answer by index: the IdPs' lookups `userName eq "x"` and `externalId eq "x"`.

Okta and Entra look a user up before creating it, by userName (both) or by
externalId (Entra, to match users it created). The directory indexes both
(caseless userName, exact externalId: RFC 7643 sections 4.1.1 and 3.1), so
these lookups cost one indexed read plus one vendor read per match, and an
externalId the vendor cannot store is still found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scim2_models import ScimFilter
from scim2_models.path import AttrPath, CompareOperator, Comparison, LogicalExpr, Not, Present, ValuePath

from gateway.backed.attributes import Leaf

_CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:user"
_INDEXED = {"username": "userName", "externalid": "externalId"}


@dataclass(frozen=True)
class IndexedLookup:
    """`attribute eq value` on an indexed attribute (`userName` or `externalId`)."""

    attribute: str
    value: str


def indexed_lookup(scim_filter: ScimFilter[Any] | None) -> IndexedLookup | None:
    """The lookup when the whole filter is one `eq` on userName or externalId, else None."""
    if scim_filter is None:
        return None
    node = scim_filter.ast
    if not isinstance(node, Comparison) or node.op != CompareOperator.eq or not isinstance(node.value, str):
        return None
    path = node.attr_path
    if path.sub_attr is not None or (path.uri is not None and str(path.uri).lower() != _CORE_USER):
        return None
    attribute = _INDEXED.get(path.attr.lower())
    return None if attribute is None else IndexedLookup(attribute, node.value)


def filter_leaves(scim_filter: ScimFilter[Any]) -> set[Leaf] | None:
    """The leaves a filter reads (gateway/backed/attributes.py), or None for a node this does not know."""
    found: set[Leaf] = set()
    pending: list[Any] = [scim_filter.ast]
    while pending:
        node = pending.pop()
        if isinstance(node, LogicalExpr):
            pending.extend(node.terms)
        elif isinstance(node, Not):
            pending.append(node.expr)
        elif isinstance(node, Comparison | Present):
            found.add(_leaf(node.attr_path))
        elif isinstance(node, ValuePath):
            found.add(_leaf(node.attr_path, whole=True))  # a value filter reads the multi-valued attribute
        else:
            return None
    return found


def _leaf(path: AttrPath, whole: bool = False) -> Leaf:
    schema = "" if path.uri is None or str(path.uri).lower() == _CORE_USER else str(path.uri)
    return (schema, path.attr, None if whole else path.sub_attr)
