"""A cheap first pass for filters the gateway evaluates itself (vendors that cannot filter).

Evaluating a filter means validating each vendor resource as a SCIM model
(one model per user: the dearest step of a gateway-side search). The IdPs' everyday filter, `userName eq "x"`
(RFC 7644 section 3.4.2.2), can rule out almost every resource from the raw
dict: a resource whose userName is a string that differs from the literal
even after Unicode normalisation and case folding cannot match, whatever
the attribute's caseExact. Only the resources that pass are validated and
matched by the real filter, so the answer is the same, for a fraction of
the cost. Anything else (other operators, sub-attributes, extension
attributes, `or`, non-string values) gets no first pass.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from scim2_models import ScimFilter
from scim2_models.path import CompareOperator, Comparison, LogicalExpr, LogicalOperator

#: Top-level single-valued string attributes of User and Group that vendors' raw resources carry as-is.
_SIMPLE = frozenset({"id", "externalid", "username", "displayname"})
_CORE_URNS = frozenset({"urn:ietf:params:scim:schemas:core:2.0:user", "urn:ietf:params:scim:schemas:core:2.0:group"})
Test = Callable[[dict[str, Any]], bool]


def first_pass(scim_filter: ScimFilter[Any]) -> Test | None:
    """A necessary condition for `scim_filter` on a raw resource, or None when there is no cheap one."""
    node = scim_filter.ast
    terms = node.terms if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_ else [node]
    for term in terms:
        if isinstance(term, Comparison) and _simple_equality(term):
            return _equals(term.attr_path.attr.lower(), term.value)
    return None


def _simple_equality(node: Comparison) -> bool:
    path = node.attr_path
    return (
        node.op == CompareOperator.eq
        and isinstance(node.value, str)
        and path.sub_attr is None
        and path.attr.lower() in _SIMPLE
        and (path.uri is None or str(path.uri).lower() in _CORE_URNS)
    )


def _equals(attribute: str, literal: str) -> Test:
    wanted = _keys(literal)

    def could_match(resource: dict[str, Any]) -> bool:
        for key, value in resource.items():
            # Attribute names are case-insensitive (RFC 7643 section 2.1); a non-string is left to the real filter.
            if key.lower() == attribute and (not isinstance(value, str) or _keys(value) & wanted):
                return True
        return False

    return could_match


def _keys(text: str) -> set[str]:
    normal = unicodedata.normalize("NFC", text)
    return {normal.lower(), normal.casefold()}
