"""Invicti Platform Identity SCIM v2 (`invicti`): SCIM at /api/scim/v2 on the Platform host.

Invicti spells filter operators capitalised (`userName Eq "x"`), so filters
are re-rendered from the parsed tree in that spelling.
"""

from __future__ import annotations

from scim2_models.path import (
    Comparison,
    FilterNode,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)

from vendors.base import SearchQuery
from vendors.facts import INVICTI
from vendors.scim_passthrough import ScimPassthroughConnector


class CapitalisedFilter(FilterVisitor[str]):
    """Render a filter tree with Invicti's operator spelling (`Eq`, `And`, `Pr`, `Not`)."""

    def visit_comparison(self, node: Comparison) -> str:
        return f"{node.attr_path} {node.op.value.capitalize()} {_literal(node)}"

    def visit_present(self, node: Present) -> str:
        return f"{node.attr_path} Pr"

    def visit_not(self, node: Not) -> str:
        return f"Not ({self.visit(node.expr)})"

    def visit_logical_expr(self, node: LogicalExpr) -> str:
        separator = f" {node.op.value.capitalize()} "
        return separator.join(self._term(node, term) for term in node.terms)

    def visit_value_path(self, node: ValuePath) -> str:
        return f"{node.attr_path}[{self.visit(node.val_filter)}]"

    def _term(self, parent: LogicalExpr, term: FilterNode) -> str:
        text = self.visit(term)
        nested_or = isinstance(term, LogicalExpr) and term.op == LogicalOperator.or_
        return f"({text})" if nested_or and parent.op == LogicalOperator.and_ else text


def _literal(node: Comparison) -> str:
    # The RFC rendering of the value (quoting and escaping) is the part after the operator.
    return str(node).split(f" {node.op.value} ", 1)[1]


class InvictiConnector(ScimPassthroughConnector):
    vendor = "invicti"
    facts = INVICTI

    def render_filter(self, query: SearchQuery) -> str | None:
        return None if query.filter is None else CapitalisedFilter().visit(query.filter.ast)
